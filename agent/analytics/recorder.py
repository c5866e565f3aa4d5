"""The pipeline observer that records what the funnel needs: counts per group and local day, messages
per member per day, and joins and leaves with their time. Never message text: the figures must be
safe to keep for as long as owners want trends, long after texts are purged.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

from agent.analytics.days import local_day
from agent.events import Decision, DecisionKind, Member, Message, Say
from agent.settings import GroupConfig
from agent.store import Store

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS analytics_counts (
        group_id TEXT NOT NULL, day TEXT NOT NULL, counter TEXT NOT NULL, value INTEGER NOT NULL,
        PRIMARY KEY (group_id, day, counter))""",
    """CREATE TABLE IF NOT EXISTS analytics_activity (
        group_id TEXT NOT NULL, day TEXT NOT NULL, member_id TEXT NOT NULL, messages INTEGER NOT NULL,
        PRIMARY KEY (group_id, day, member_id))""",
    """CREATE TABLE IF NOT EXISTS analytics_membership (
        id INTEGER PRIMARY KEY AUTOINCREMENT, group_id TEXT NOT NULL, member_id TEXT NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('join', 'leave')),
        ts TEXT NOT NULL,  -- UTC, so the text sorts in time order
        day TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS analytics_members (
        group_id TEXT NOT NULL, member_id TEXT NOT NULL, name TEXT NOT NULL,
        PRIMARY KEY (group_id, member_id))""",
    "CREATE INDEX IF NOT EXISTS analytics_membership_group ON analytics_membership (group_id, day)",
)

_BUMP = ("INSERT INTO analytics_counts (group_id, day, counter, value) VALUES (?, ?, ?, ?) "
         "ON CONFLICT (group_id, day, counter) DO UPDATE SET value = value + excluded.value")
_SPOKE = ("INSERT INTO analytics_activity (group_id, day, member_id, messages) VALUES (?, ?, ?, 1) "
          "ON CONFLICT (group_id, day, member_id) DO UPDATE SET messages = messages + 1")
_NAME = ("INSERT INTO analytics_members (group_id, member_id, name) VALUES (?, ?, ?) "
         "ON CONFLICT (group_id, member_id) DO UPDATE SET name = excluded.name")


def ensure_schema(store: Store) -> None:
    """Create the analytics tables if missing; readers call it too, so a fresh database reads as empty."""
    with store.tx() as db:
        for statement in SCHEMA:
            db.execute(statement)


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
        ensure_schema(store)

    def decided(self, message: Message, decision: Decision) -> None:
        group = self.groups.get(message.group_id or "")
        if group is None:
            return
        day = local_day(message.ts, group.timezone).isoformat()
        with self.store.tx() as db:
            for counter, by in counts_of(message, decision).items():
                db.execute(_BUMP, (group.id, day, counter, by))
            if not message.private:
                db.execute(_SPOKE, (group.id, day, message.sender.id))
                if message.sender.name:
                    db.execute(_NAME, (group.id, message.sender.id, message.sender.name))

    def joined(self, group_id: str, member: Member, ts: datetime) -> None:
        self._membership(group_id, member, ts, "join")

    def left(self, group_id: str, member: Member, ts: datetime) -> None:
        self._membership(group_id, member, ts, "leave")

    def _membership(self, group_id: str, member: Member, ts: datetime, event: str) -> None:
        group = self.groups.get(group_id)
        if group is None:
            return
        day = local_day(ts, group.timezone).isoformat()
        with self.store.tx() as db:
            db.execute("INSERT INTO analytics_membership (group_id, member_id, event, ts, day) VALUES (?, ?, ?, ?, ?)",
                       (group.id, member.id, event, ts.astimezone(timezone.utc).isoformat(), day))
            db.execute(_BUMP, (group.id, day, "members.joined" if event == "join" else "members.left", 1))
            if member.name:
                db.execute(_NAME, (group.id, member.id, member.name))
