"""When a schedule fires: its `when` as a cron expression, its slots in the group's time zone, and
whether a moment falls in the group's quiet hours.

Friendly forms ("weekly Mon 09:00", "daily 08:30", "每周一 9:00", "每天 8:30") are rewritten to cron
and croniter does the calendar work, so there is one cron reading in the project and it is a
maintained one.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from agent import patterns

if TYPE_CHECKING:  # settings may import this module to validate schedules at load time
    from agent.settings import GroupConfig

# shown under a malformed `schedules:` entry, so the error is also the guide
EXAMPLE = """a schedule looks like this (see config/groups/demo.yaml):
  schedules:
    - id: weekly-tip            # your name for it, unique in the group
      when: "weekly Mon 09:00"  # or "daily 08:30", "每周一 9:00", or cron "0 9 * * 1"
      kind: tip                 # tip | events | digest | custom
      brief: "本周小技巧"        # what the post is about
      approval: required        # an owner approves each draft (/approve N); auto posts it as drafted"""
MAX_SLOTS = 200  # a window this full means a broken expression or a very long outage: stop counting

_CN_WEEKDAYS = "一二三四五六日"
_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 0}
_CN_DAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 0, "天": 0}
_TIME = r"(?P<h>\d{1,2})(?:[:：](?P<m>\d{2})|点(?P<half>半)?)"
_WEEKLY = patterns.compile(rf"^weekly\s+(?P<d>mon|tue|wed|thu|fri|sat|sun)[a-z]*\s+{_TIME}$", re.I)
_DAILY = patterns.compile(rf"^daily\s+{_TIME}$", re.I)
_CN_WEEKLY = patterns.compile(rf"^每(?:周|星期|礼拜)(?P<d>[一二三四五六日天])\s*{_TIME}$")
_CN_DAILY = patterns.compile(rf"^(?:每天|每日)\s*{_TIME}$")


def to_cron(when: str) -> str:
    """The cron expression for `when`; ValueError (worded for an operator) when it is neither."""
    text = when.strip()
    for pattern, days in ((_WEEKLY, _DAYS), (_CN_WEEKLY, _CN_DAYS), (_DAILY, None), (_CN_DAILY, None)):
        found = pattern.match(text)
        if not found:
            continue
        hour = int(found["h"])
        minute = 30 if found["half"] else int(found["m"] or 0)
        if hour > 23 or minute > 59:
            raise ValueError(f"{when!r}: no such time of day")
        day = str(days[found["d"].lower()[:3] if days is _DAYS else found["d"]]) if days else "*"
        return f"{minute} {hour} * * {day}"
    if not croniter.is_valid(text):
        raise ValueError(f"{when!r}: not a cron expression (e.g. '0 9 * * 1') nor 'weekly Mon 09:00' / "
                         "'daily 08:30' / '每周一 9:00' / '每天 8:30'")
    return text


def check(schedule_id: str, when: str, tz: str) -> None:
    """Validate one configured schedule; the error names it, for the config loader to show."""
    try:
        to_cron(when)
        zone(tz)
    except ValueError as exc:
        raise ValueError(f"schedule {schedule_id!r}: {exc}") from None


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r} (e.g. 'Asia/Shanghai')") from None


def between(when: str, tz: str, after: datetime, until: datetime) -> list[datetime]:
    """Slots in (after, until], as UTC datetimes; cron is read in the time zone `tz`."""
    it = croniter(to_cron(when), after.astimezone(zone(tz)))
    out: list[datetime] = []
    while len(out) < MAX_SLOTS:
        slot = it.get_next(datetime).astimezone(timezone.utc)
        if slot > until:
            break
        out.append(slot)
    return out


def quiet(group: GroupConfig, at: datetime) -> bool:
    """In the group's quiet hours [start, end) local time (the same hours the nudges keep)."""
    hours = group.theme_policy.quiet_hours
    if not hours or hours[0] == hours[1]:
        return False
    start, end = hours
    hour = at.astimezone(zone(group.timezone)).hour
    return (hour >= start or hour < end) if start > end else (start <= hour < end)


def after_quiet(group: GroupConfig, at: datetime) -> datetime:
    """`at`, or the end of the quiet hours it falls in (UTC): when a post due then may go out."""
    if not quiet(group, at):
        return at
    local = at.astimezone(zone(group.timezone))
    end = local.replace(hour=group.theme_policy.quiet_hours[1], minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(timezone.utc)


def show(group: GroupConfig, at: datetime) -> str:
    """A time as the group's owners read it: local, with the weekday ("3月24日（周一）09:00")."""
    local = at.astimezone(zone(group.timezone))
    if group.language == "zh":
        return f"{local.month}月{local.day}日（周{_CN_WEEKDAYS[local.weekday()]}）{local:%H:%M}"
    return f"{_EN_WEEKDAYS[local.weekday()]} {local:%d %b %H:%M}"
