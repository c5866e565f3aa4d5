"""Which stretch of chat a catch-up request means: "/summary 3h", "最近两小时", "since yesterday",
"今天聊了什么", or by default everything since the asker last spoke — never more than a day back.

Only these shapes are read; anything else falls back to the default rather than a guess.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from agent import patterns
from agent.schedule.timewords import cn_number

LONGEST = timedelta(hours=24)
_SPAN = patterns.compile(
    r"(\d{1,3}|[一二两三四五六七八九十]{1,3}|半)\s*(?:个)?\s*(h|hrs?|hours?|小时|钟头|m|mins?|minutes?|分钟|d|days?|天)", re.I)
_YESTERDAY = patterns.compile(r"昨天|昨晚|yesterday|last night", re.I)
_TODAY = patterns.compile(r"今天|今日|today|this morning|今早|上午", re.I)


def _amount(word: str) -> float:
    return 0.5 if word == "半" else float(word) if word.isdigit() else float(cn_number(word))


def since(text: str, now: datetime, last_spoke: datetime | None) -> datetime:
    """The start of the window (in `now`'s zone), at most LONGEST before `now`."""
    start = None
    if found := _SPAN.search(text):
        unit = found.group(2).lower()
        step = (timedelta(minutes=1) if unit.startswith(("m", "分")) else
                timedelta(days=1) if unit.startswith(("d", "天")) else timedelta(hours=1))
        start = now - step * _amount(found.group(1))
    elif _YESTERDAY.search(text):
        start = (now - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    elif _TODAY.search(text):
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elif last_spoke is not None:
        start = last_spoke
    return max(start or now - LONGEST, now - LONGEST)
