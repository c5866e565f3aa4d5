"""The pipeline observer that records what the funnel needs: counts per group and local day, messages
per member per day, and joins and leaves with their time. Never message text: the figures must be
safe to keep for as long as owners want trends, long after texts are purged.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from agent.analytics.days import local_day
from agent.events import Decision, DecisionKind, Member, Message, Say
from agent.settings import GroupConfig
from agent.state import analytics as state
from agent.store import Store


def counts_of(message: Message, decision: Decision) -> dict[str, int]:
    """The counters one decided message adds to. Private chats with the bot are not group activity.
    A message judged off-topic counts as decision.nudge; the nudge itself, only when one was sent
    (the drift policy holds most back), as nudge.sent."""
    counts = {f"decision.{decision.kind}": 1, "private" if message.private else "messages": 1}
    if decision.kind == DecisionKind.NUDGE and any(isinstance(a, Say) for a in decision.actions):
        counts["nudge.sent"] = 1
    if decision.violation is not None:
        counts[f"violation.{decision.violation.kind}"] = 1
    if decision.llm_calls:
        counts["llm.calls"] = decision.llm_calls
    if decision.llm_tokens:
        counts["llm.tokens"] = decision.llm_tokens
    return counts


class Recorder:
    """Observer for `Pipeline.observers`. Each event lands in one transaction, so figures never
    disagree with each other after a crash."""

    def __init__(self, store: Store, groups: Mapping[str, GroupConfig]):
        self.store, self.groups = store, groups

    def decided(self, message: Message, decision: Decision) -> None:
        group = self.groups.get(message.group_id or "")
        if group is None:
            return
        day = local_day(message.ts, group.timezone)
        speaker = None if message.private else message.sender.id
        state.record_message(self.store, group.id, day, counts_of(message, decision), speaker, message.sender.name)

    def joined(self, group_id: str, member: Member, ts: datetime) -> None:
        self._membership(group_id, member, ts, "join")

    def left(self, group_id: str, member: Member, ts: datetime) -> None:
        self._membership(group_id, member, ts, "leave")

    def _membership(self, group_id: str, member: Member, ts: datetime, event: str) -> None:
        group = self.groups.get(group_id)
        if group is None:
            return
        state.record_membership(self.store, group.id, member.id, member.name, event, ts, local_day(ts, group.timezone))
