"""Probation decisions where owners audit the bot: a line of the weekly digest, and the marks and
vouches `steward cases` shows."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from agent.clock import zone
from agent.settings import GroupConfig
from agent.state import probation


def digest_line(store, group: GroupConfig, prompts, week: date) -> str | None:
    """The week's probation decisions in one line (None for a week without any)."""
    start = datetime.combine(week, time(0), zone(group.timezone))
    counts = Counter(r["event"] for r in probation.events(store, group.id, start, start + timedelta(days=7)))
    if not counts:
        return None
    return prompts.render("digest_probation", group.language, joined=counts["join"], agreed=counts["agree"],
                          trusted=counts["trust"], cases=counts["case"])


def case_ids(store) -> set[int]:
    """Cases opened by a stricter check on a member on probation."""
    return {r["case_id"] for r in probation.events(store) if r["event"] == "case" and r["case_id"] is not None}


def vouches(store, group_id: str | None = None) -> list:
    """Every /trust: who vouched for whom, and when."""
    return [r for r in probation.events(store, group_id) if r["event"] == "trust"]
