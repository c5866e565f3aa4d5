"""/unblock @member (or a contact id, for someone not in this group): owners only. The entry goes,
and the member's open blocklist cases in every group are closed as kept, so the decision shows in
`steward cases` and the digest (one is recorded here when none was open)."""
from __future__ import annotations

from agent.commands.api import OWNERS, CommandSpec, Context, Parsed, say, usage
from agent.events import Action, Message
from agent.moderation import cases
from agent.quoting import display_name
from agent.state import blocklist as state, moderation as case_state


def unblock(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    ids = list(parsed.targets) or parsed.text.split()[:1]
    if not ids:
        return usage(ctx, msg, parsed)
    store, group, lines = ctx.services.store, ctx.group, []
    for contact_id in ids:
        name = display_name(group.name_of(contact_id), ctx.sentence("name_fallback"))
        if not state.remove(store, contact_id):
            lines.append(ctx.sentence("cmd_unblock_none", member=name))
            continue
        closed = [c for c in state.open_cases(store, contact_id)
                  if case_state.close_case(store, c["id"], "dismiss", msg.sender.id, msg.ts)]
        if not any(c["group_id"] == group.id for c in closed):
            case_id = store.open_case(group.id, contact_id, "blocklist", None, "unblock", msg.ts)
            store.put(cases.name_key(case_id), name)
            case_state.close_case(store, case_id, "dismiss", msg.sender.id, msg.ts)
        lines.append(ctx.sentence("cmd_unblocked", member=name))
    return say(ctx, msg, "\n".join(lines))


COMMANDS = (
    CommandSpec("unblock", ("unblock", "解除黑名单"), "/unblock @成员", unblock, roles=OWNERS),
)
