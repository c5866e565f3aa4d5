"""The strike ladder: warn → warn and stop serving the member for a while → a case for the owners.

Personal WeChat has no member mute, so the bot's own silence towards the member is the middle step.
Severe findings (scams, invitations to other groups) skip straight to a case. Strikes older than
`strike_days` no longer count, so one bad day is not held against a member for ever.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from agent.store import Store


class Step(StrEnum):
    WARN = "warn"
    MUTE = "mute"  # warn, and the bot ignores the member for `mute_hours`
    CASE = "case"  # warn, and a case file with a suggested kick goes to every owner


@dataclass(frozen=True)
class Ladder:
    mute_at: int = 2
    case_at: int = 3
    severe: int = 3  # a finding of this severity opens a case on the first strike
    mute_hours: float = 12
    strike_days: int = 30

    def step(self, strike_number: int, severity: int) -> Step:
        if strike_number >= self.case_at or severity >= self.severe:
            return Step.CASE
        return Step.MUTE if strike_number >= self.mute_at else Step.WARN

    def since(self, now: datetime) -> datetime:
        return now - timedelta(days=self.strike_days)


def mute_key(group_id: str, member_id: str) -> str:
    return f"moderation.mute:{group_id}:{member_id}"


def mute(store: Store, group_id: str, member_id: str, until: datetime) -> None:
    store.put(mute_key(group_id, member_id), until.isoformat())


def is_muted(store: Store, group_id: str, member_id: str, now: datetime) -> bool:
    """Whether the bot is ignoring this member now (other routes check this before serving them)."""
    until = store.get(mute_key(group_id, member_id))
    if until is None:
        return False
    return stored_time(until, now) > now


def stored_time(value: str, like: datetime) -> datetime:
    """A stored ISO time, comparable with `like` even when one side is naive (a naive test clock)."""
    ts = datetime.fromisoformat(value)
    return ts if (ts.tzinfo is None) == (like.tzinfo is None) else ts.replace(tzinfo=like.tzinfo)
