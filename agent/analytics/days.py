"""Days and weeks in the group's own time zone: a message at 00:30 Monday in Shanghai belongs to
Monday's figures and the new week's cohort, whatever the server's clock says."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from agent.clock import local


def local_day(ts: datetime, tz: str) -> date:
    """The calendar day of `ts` where the group lives (agent.clock: a naive `ts` is its wall time)."""
    return local(ts, tz).date()


def week_start(day: date) -> date:
    """Monday of the week holding `day`: weeks run Monday to Sunday, as in China."""
    return day - timedelta(days=day.weekday())


def last_days(n: int, today: date) -> tuple[date, date]:
    """The n days ending with `today`, both ends included."""
    return today - timedelta(days=n - 1), today


def each_day(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]
