"""Where a listed contact turns up: the route that sees them speak (first of all routes: one set lookup
per message, agent.state.blocklist.listed) and the observer that sees them join.

Each group's owners get one case per listing: while it is open, or once they kept the member
(dismissed it), the member's messages go on to the other routes as anyone's. `blocklist: auto_kick`
removes the member instead, unless the entry was imported, and closes the case as kicked.
"""
from __future__ import annotations

from datetime import datetime

from agent.clock import local
from agent.events import Action, Decision, DecisionKind, Kick, Member, Message, Violation, Whisper
from agent.moderation import cases
from agent.quoting import display_name
from agent.state import blocklist as state, moderation as case_state

EVIDENCE_SHOWN = 5


def raise_case(services, group, member: Member, ts: datetime, how: str) -> list[Action]:
    """The owners' case (or the removal) for a listed member who joined or spoke; [] when there is
    nothing to do (not listed, exempt, or their owners have it in hand)."""
    store = services.store
    entry = state.entry(store, member.id)
    if entry is None or group.blocklist == "off" or member.id in group.whitelist or member.is_staff:
        return []
    if state.settled(store, group.id, member.id, entry["ts"]):
        return []

    def sentence(name: str, **values) -> str:
        return services.prompts.render(name, group.language, **values)

    name = display_name(member.name or group.name_of(member.id), sentence("name_fallback"))
    case_id = store.open_case(group.id, member.id, "blocklist", None, "kick", ts)
    store.put(cases.name_key(case_id), name)
    place = group.name or group.id
    origin_group = services.settings.groups.get(entry["group_id"])
    origin = (sentence("blocklist_from_import") if entry["source"] == "import" else
              sentence("blocklist_from_group", group=(origin_group.name if origin_group else "") or entry["group_id"]))
    if group.blocklist == "auto_kick" and entry["source"] != "import":
        case_state.close_case(store, case_id, "kick", "blocklist", ts)
        text = sentence("blocklist_kicked", case_id=case_id, group=place, member=name, member_id=member.id,
                        reason=entry["reason"])
        return [Kick(group.id, member.id), *(Whisper(o.id, text) for o in group.owners)]
    text = sentence("blocklist_case", case_id=case_id, group=place, member=name, member_id=member.id,
                    how=sentence(how), reason=entry["reason"], origin=origin,
                    time=local(entry["ts"], group.timezone).strftime("%Y-%m-%d %H:%M"),
                    evidence=", ".join(entry["evidence"][-EVIDENCE_SHOWN:]) or "-")
    return [Whisper(o.id, text) for o in group.owners]


class BlocklistRoute:
    """First route: a listed member speaking. Their first message in a group where the owners do not
    have them in hand is withheld (decided as a violation, so no summary repeats it) and raises the case."""

    name = "blocklist"

    def match(self, message: Message, ctx) -> bool:
        if message.group_id is None or message.private or ctx.group.blocklist == "off":
            return False
        return state.listed(ctx.services.store, message.sender.id)

    def handle(self, message: Message, ctx) -> Decision | None:
        actions = raise_case(ctx.services, ctx.group, message.sender, message.ts, "blocklist_spoke")
        if not actions:
            return None
        kicked = any(isinstance(a, Kick) for a in actions)
        return Decision(DecisionKind.VIOLATION, message.id, self.name, actions=actions,
                        violation=Violation("blocklist", None, "blocklist"),
                        detail={"blocklist": "kicked" if kicked else "case"})


class BlocklistWatch:
    """Pipeline observer: a listed member joining a managed group (its `joined` returns the actions)."""

    def __init__(self, services):
        self.services = services

    def joined(self, group_id: str, member: Member, ts: datetime) -> list[Action]:
        group = self.services.settings.groups.get(group_id)
        if group is None or not state.listed(self.services.store, member.id):
            return []
        return raise_case(self.services, group, member, ts, "blocklist_joined")

