"""/newcomers (owners and admins: who is on probation or has not agreed to the rules yet, privately)
and /trust @member (owners only: vouch for a newcomer, who leaves probation at once)."""
from __future__ import annotations

from agent.clock import local
from agent.commands.api import OWNERS, STAFF, CommandSpec, Context, Parsed, say
from agent.events import Action, Message, Whisper
from agent.probation.status import active
from agent.quoting import display_name
from agent.state import probation

NEWCOMERS_SHOWN = 30  # a phone screen's worth; the oldest joins first


def newcomers(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    group, store = ctx.group, ctx.services.store
    if not group.probation.on and not group.probation.agree:
        return [Whisper(msg.sender.id, ctx.sentence("probation_off"))]
    pending = [(r, active(r, group.probation, msg.ts)) for r in probation.members(store, group.id)]
    pending = [(r, on) for r, on in pending if on or (r["agree"] and r["agreed_ts"] is None)]
    if not pending:
        return [Whisper(msg.sender.id, ctx.sentence("probation_none"))]
    fallback = ctx.sentence("name_fallback")
    lines = [ctx.sentence("probation_line", name=display_name(r["name"], fallback), id=r["member_id"],
                          joined=local(r["joined_ts"], group.timezone).strftime("%m-%d %H:%M"), messages=r["messages"],
                          agreed=ctx.sentence("probation_agreed" if r["agreed_ts"] else "probation_not_agreed")
                          if r["agree"] else "-",
                          state=ctx.sentence("probation_on" if on else "probation_over"))
             for r, on in pending[:NEWCOMERS_SHOWN]]
    return [Whisper(msg.sender.id, ctx.sentence("probation_list", count=len(pending), members="\n".join(lines)))]


def trust(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    group, store = ctx.group, ctx.services.store
    fallback = ctx.sentence("name_fallback")
    lines = []
    for target in parsed.targets:
        row = probation.row(store, group.id, target)
        name = display_name(row["name"] if row else group.name_of(target), fallback)
        done = probation.trust(store, group.id, target, msg.sender.id, msg.ts)
        lines.append(ctx.sentence("probation_trusted" if done else "probation_not_on", member=name))
    return say(ctx, msg, "\n".join(lines))


COMMANDS = (
    CommandSpec("newcomers", ("newcomers", "新人", "新成员"), "/newcomers", newcomers, roles=STAFF),
    CommandSpec("trust", ("trust", "信任", "担保"), "/trust @member", trust, roles=OWNERS, needs_target=True),
)
