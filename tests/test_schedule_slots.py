"""Slots: friendly `when` forms become cron (croniter does the calendar), in the group's time zone;
quiet hours; the chat time phrases."""
from datetime import datetime, timedelta, timezone

import pytest

from agent.schedule import slots, timewords
from agent.settings import GroupConfig, ThemePolicy

CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize("when, cron", [
    ("weekly Mon 09:00", "0 9 * * 1"),
    ("weekly sunday 21:30", "30 21 * * 0"),
    ("daily 08:30", "30 8 * * *"),
    ("每周一 9:00", "0 9 * * 1"),
    ("每周日 9点半", "30 9 * * 0"),
    ("每天 8:30", "30 8 * * *"),
    ("0 9 * * 1-5", "0 9 * * 1-5"),
])
def test_friendly_forms_become_cron(when, cron):
    assert slots.to_cron(when) == cron


@pytest.mark.parametrize("when", ["weekly Mon 25:00", "every monday", "0 9 * * 8", "每周八 9:00"])
def test_bad_expression_names_the_schedule(when):
    with pytest.raises(ValueError, match="schedule 'weekly-tip'"):
        slots.check("weekly-tip", when, "Asia/Shanghai")


def test_bad_time_zone_names_the_schedule():
    with pytest.raises(ValueError, match="weekly-tip.*time zone"):
        slots.check("weekly-tip", "daily 08:30", "Mars/Olympus")


def test_slots_are_read_in_the_group_time_zone():
    after = datetime(2025, 3, 16, 0, 0, tzinfo=timezone.utc)  # Sunday 08:00 in Shanghai
    got = slots.between("weekly Mon 09:00", "Asia/Shanghai", after, after + timedelta(days=14))
    assert got == [datetime(2025, 3, 17, 1, 0, tzinfo=timezone.utc), datetime(2025, 3, 24, 1, 0, tzinfo=timezone.utc)]
    ny = slots.between("daily 08:30", "America/New_York", after, after + timedelta(days=1))
    assert [s.astimezone(slots.zone("America/New_York")).hour for s in ny] == [8]


def test_quiet_hours_wrap_midnight_and_end_at_their_end_hour():
    g = GroupConfig(id="g", theme="t", theme_policy=ThemePolicy(quiet_hours=(23, 7)))
    late = datetime(2025, 3, 17, 23, 30, tzinfo=CST)
    assert slots.quiet(g, late) and not slots.quiet(g, late.replace(hour=22))
    assert slots.after_quiet(g, late) == datetime(2025, 3, 18, 7, 0, tzinfo=CST)
    assert slots.after_quiet(g, late.replace(hour=12)) == late.replace(hour=12)
    assert not slots.quiet(GroupConfig(id="g", theme="t", theme_policy=ThemePolicy(quiet_hours=None)), late)


NOW = datetime(2025, 3, 18, 10, 0, tzinfo=CST)  # a Tuesday


@pytest.mark.parametrize("text, at", [
    ("明天早上9点", datetime(2025, 3, 19, 9, 0)),
    ("周五 21:00", datetime(2025, 3, 21, 21, 0)),
    ("下周一9点半", datetime(2025, 3, 24, 9, 30)),
    ("周二9点", datetime(2025, 3, 25, 9, 0)),  # today's 9:00 has passed: next Tuesday
    ("3月19日 19:50", datetime(2025, 3, 19, 19, 50)),
    ("2025-03-19 19:50", datetime(2025, 3, 19, 19, 50)),
    ("晚上八点", datetime(2025, 3, 18, 20, 0)),
    ("10点", datetime(2025, 3, 19, 10, 0)),  # said at 10:00: tomorrow's
    ("今晚9点", datetime(2025, 3, 18, 21, 0)),
])
def test_time_phrases(text, at):
    found = timewords.find(text, NOW)
    assert found is not None and found.at == at.replace(tzinfo=CST) and found.has_time


@pytest.mark.parametrize("text", ["提醒带3双袜子", "2025-02-30 9:00", "25点"])
def test_not_a_time_phrase(text):
    found = timewords.find(text, NOW)
    assert found is None or not found.has_time


def test_phrase_span_leaves_the_text_after_it():
    text = "2025-03-19 19:50 提醒大家带反光背心"
    found = timewords.find(text, NOW)
    assert text[found.end:].strip() == "提醒大家带反光背心"
