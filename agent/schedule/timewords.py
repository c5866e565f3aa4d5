"""The time phrases owners type in chat: "明天早上9点", "周五 21:00", "下周一9点半", "3月19日 19:50",
"2025-03-19 19:50", "10点" → a local datetime.

Checked against the maintained parsers (2026-12-02, the phrases above plus 今晚八点 and 后天下午3点):
dateparser 1.5 reads only "周五 21:00" and the ISO form; jionlp 1.5.31 reads all eight, but prints a
banner to stdout on import (it would corrupt `--json` output), brings its own tokenizer and 70 MB, and
resolves "10点" said at 11:00, or "周五 21:00" said on a Friday night, to the past. Until it replaces
this, this covers exactly the phrases the schedule commands document, and nothing fuzzier: a phrase it
cannot read gets the usage text rather than a guess.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from agent import patterns

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_PHRASE = patterns.compile(
    r"(?:(?P<y>\d{4})[-/.年](?P<mo>\d{1,2})[-/.月](?P<d>\d{1,2})[日号]?"
    r"|(?P<mo2>\d{1,2})月(?P<d2>\d{1,2})[日号]"
    r"|(?P<rel>大后天|后天|明天|明早|明晚|今天|今早|今晚)"
    r"|(?P<nx>下个?|这个?|本)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7]))?"
    r"(?:\s*|T)"
    r"(?P<per>早上|早晨|上午|中午|下午|傍晚|晚上|夜里|凌晨)?"
    rf"(?:(?P<h>\d{{1,2}})[:：](?P<mi>\d{{2}})|(?P<h2>{_NUM})[点时](?:(?P<half>半)|(?P<mi2>{_NUM})分?)?)?"
)
_REL_DAYS = {"今天": 0, "今早": 0, "今晚": 0, "明天": 1, "明早": 1, "明晚": 1, "后天": 2, "大后天": 3}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_EVENING = {"下午", "傍晚", "晚上", "夜里", "今晚", "明晚"}


@dataclass(frozen=True)
class When:
    at: datetime  # local, in the time zone of `now`; midnight when no time was given
    has_date: bool
    has_time: bool
    start: int  # where the phrase is in the text
    end: int
    half_day: bool  # a word said which half of the day (下午, 晚上, 今晚…): "8点" alone did not


def cn_number(text: str) -> int:
    """'9' → 9, '十' → 10, '十二' → 12, '二十三' → 23, '两' → 2."""
    if text.isdigit():
        return int(text)
    tens, ten, ones = text.partition("十")
    try:
        if ten:
            return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
        return _CN_DIGITS[text]
    except KeyError:
        raise ValueError(f"not a number: {text!r}") from None


def find(text: str, now: datetime) -> When | None:
    """The first time phrase in `text`, resolved against `now` (an aware datetime, local zone)."""
    for m in _PHRASE.finditer(text):
        if not m.group(0).strip():  # the pattern matches empty at every position; named groups cost a lot in re2
            continue
        has_date = any(m[g] for g in ("y", "mo2", "rel", "wd"))
        has_time = bool(m["h"] or m["h2"])
        if not (has_date or has_time):
            continue
        clock = _clock(m) if has_time else time(0, 0)
        if clock is None:
            continue
        day = _day(m, now, clock, has_time) if has_date else now.date()
        if day is None:
            continue
        at = datetime.combine(day, clock, tzinfo=now.tzinfo)
        if not has_date and at <= now:
            at += timedelta(days=1)  # "10点" said at 11:00 means tomorrow's 10:00
        return When(at, has_date, has_time, m.start(), m.end(), bool(m["per"] or m["rel"] in ("今晚", "明早", "明晚")))
    return None


def _clock(m: patterns.Match) -> time | None:
    try:
        hour = int(m["h"]) if m["h"] else cn_number(m["h2"])
        minute = int(m["mi"]) if m["mi"] else 30 if m["half"] else cn_number(m["mi2"]) if m["mi2"] else 0
    except ValueError:
        return None
    period = m["per"] or m["rel"] or ""
    if (period in _EVENING and hour < 12) or (period == "中午" and hour < 11):
        hour += 12
    elif period == "凌晨" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _day(m: patterns.Match, now: datetime, clock: time, has_time: bool) -> date | None:
    today = now.date()
    try:
        if m["y"]:
            return date(int(m["y"]), int(m["mo"]), int(m["d"]))
        if m["mo2"]:
            day = date(today.year, int(m["mo2"]), int(m["d2"]))
            return day if day >= today else date(today.year + 1, day.month, day.day)
    except ValueError:
        return None
    if m["rel"]:
        return today + timedelta(days=_REL_DAYS[m["rel"]])
    wd = m["wd"]
    target = int(wd) - 1 if wd.isdigit() else _WEEKDAYS[wd]
    if target > 6:
        return None
    if m["nx"] and m["nx"].startswith("下"):
        return today - timedelta(days=today.weekday()) + timedelta(days=7 + target)
    if m["nx"]:  # 这周五 / 本周五: this calendar week's, even if it has passed
        return today - timedelta(days=today.weekday()) + timedelta(days=target)
    ahead = (target - today.weekday()) % 7
    if ahead == 0 and has_time and datetime.combine(today, clock, tzinfo=now.tzinfo) <= now:
        ahead = 7  # "周五 21:00" said on Friday at 22:00: next Friday
    return today + timedelta(days=ahead)
