"""The strike ladder: warn → warn and pause serving the member for a while → a case for the owners.

Personal WeChat cannot mute a member, so a pause (the bot ignores the member) is the middle step; it is
not the group's quiet time an owner sets with /mute.
Severe findings (scams, invitations to other groups) skip straight to a case. Strikes older than
`strike_days` no longer count, so one bad day is not held against a member for ever. The rungs are
each group's `moderation` policy (agent.settings.ModerationPolicy), read per message.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from agent.settings import ModerationPolicy
from agent.store import Store


class Step(StrEnum):
    WARN = "warn"
    PAUSE = "pause"  # warn, and the bot ignores the member for `mute_hours` (the config key's first name)
    CASE = "case"  # warn, and a case file with a suggested kick goes to every owner


def step(policy: ModerationPolicy, strike_number: int, severity: int) -> Step:
    if strike_number >= policy.case_at or severity >= policy.severe:
        return Step.CASE
    return Step.PAUSE if strike_number >= policy.mute_at else Step.WARN


def since(policy: ModerationPolicy, now: datetime) -> datetime:
    """The oldest strike time that still counts at `now`."""
    return now - timedelta(days=policy.strike_days)


def pause_key(group_id: str, member_id: str) -> str:
    return f"moderation.mute:{group_id}:{member_id}"  # stored under its first name: older pauses still hold


def pause(store: Store, group_id: str, member_id: str, until: datetime) -> None:
    store.put(pause_key(group_id, member_id), until.isoformat(), with_decision=True)  # lands with its strike


def is_paused(store: Store, group_id: str, member_id: str, now: datetime) -> bool:
    """Whether the bot is ignoring this member now (other routes check this before serving them)."""
    until = store.get(pause_key(group_id, member_id))
    if until is None:
        return False
    return stored_time(until, now) > now


def stored_time(value: str | datetime, like: datetime) -> datetime:
    """A stored time (ISO text or a row's instant), comparable with `like` even when one side is naive
    (a naive test clock)."""
    ts = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return ts if (ts.tzinfo is None) == (like.tzinfo is None) else ts.replace(tzinfo=like.tzinfo)
