"""The pipeline observer that keeps probation rows: a join starts one, a leave ends it, and each decided
group message of the member counts (and records "同意" / "I agree" when the rules were put to them)."""
from __future__ import annotations

from agent.events import Decision, Member, Message
from agent.probation.status import is_agreement
from agent.state import probation


class ProbationRecorder:
    """Observer for `Pipeline.observers`; reads each group's policy from `settings` at the event."""

    def __init__(self, store, settings):
        self.store, self.settings = store, settings

    def joined(self, group_id: str, member: Member, ts) -> None:
        group = self.settings.groups.get(group_id)
        if group is not None:
            probation.joined(self.store, group_id, member.id, member.name, ts, group.probation.agree)

    def left(self, group_id: str, member: Member, ts) -> None:
        probation.left(self.store, group_id, member.id)

    def decided(self, message: Message, decision: Decision | None) -> None:
        if message.private or message.group_id is None or message.sender.is_staff:
            return
        probation.spoke(self.store, message.group_id, message.sender.id)
        if is_agreement(message.text):
            probation.agreed(self.store, message.group_id, message.sender.id, message.ts)
