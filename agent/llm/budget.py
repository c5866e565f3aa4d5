"""Token budgets: per group and per member per day, and one monthly cap for the whole bot.

A budget running low should degrade the answer, not stop the bot: `allow` says "full" while the
estimated call fits, "short" while a call with a cut context still fits, and "none" (take the no-LLM
path) after that. Spending is recorded after each call with the tokens the call really used.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from agent.store import Store

Grant = Literal["full", "short", "none"]


class Budget:
    """Counts spent tokens in memory, and in the store's key/value table when given one, so a
    restart keeps the day's and the month's spending. A limit of None means no limit."""

    def __init__(self, group_daily: int | None = 100_000, member_daily: int | None = 10_000,
                 monthly: int | None = 2_000_000, short_fraction: float = 0.5,
                 store: Store | None = None, clock: Callable[[], datetime] = datetime.now):
        self.group_daily = group_daily
        self.member_daily = member_daily
        self.monthly = monthly
        self.short_fraction = short_fraction  # a short call is assumed to need this share of a full one
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._day: str | None = None
        self._month: str | None = None
        self._spent_day: dict[str, dict[str, int]] = {}  # {"groups": {gid: n}, "members": {"gid/mid": n}}
        self._spent_month = 0

    def remaining(self, group_id: str, member_id: str) -> int | None:
        """Tokens left under the tightest of the three limits (None: no limit applies)."""
        with self._lock:
            self._roll()
            left = []
            if self.group_daily is not None:
                left.append(self.group_daily - self._spent_day["groups"].get(group_id, 0))
            if self.member_daily is not None:
                left.append(self.member_daily - self._spent_day["members"].get(f"{group_id}/{member_id}", 0))
            if self.monthly is not None:
                left.append(self.monthly - self._spent_month)
            return max(min(left), 0) if left else None

    def allow(self, group_id: str, member_id: str, estimated_tokens: int) -> Grant:
        """May this member's message in this group use the model, and with how much context?"""
        left = self.remaining(group_id, member_id)
        if left is None or left >= estimated_tokens:
            return "full"
        if left >= estimated_tokens * self.short_fraction:
            return "short"
        return "none"

    def spend(self, group_id: str, member_id: str, used_tokens: int) -> None:
        with self._lock:
            self._roll()
            groups, members = self._spent_day["groups"], self._spent_day["members"]
            groups[group_id] = groups.get(group_id, 0) + used_tokens
            key = f"{group_id}/{member_id}"
            members[key] = members.get(key, 0) + used_tokens
            self._spent_month += used_tokens
            if self._store is not None:
                self._store.put(f"llm_budget:day:{self._day}", self._spent_day)
                self._store.put(f"llm_budget:month:{self._month}", self._spent_month)

    def _roll(self) -> None:
        """Start a new day or month when the clock has moved on (loading what the store kept)."""
        now = self._clock()
        day, month = now.strftime("%Y-%m-%d"), now.strftime("%Y-%m")
        if day != self._day:
            self._day = day
            stored = self._store.get(f"llm_budget:day:{day}") if self._store else None
            self._spent_day = stored or {"groups": {}, "members": {}}
        if month != self._month:
            self._month = month
            self._spent_month = (self._store.get(f"llm_budget:month:{month}", 0) if self._store else 0)
