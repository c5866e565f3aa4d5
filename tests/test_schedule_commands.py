"""The owners' schedule commands, slash and Chinese phrasing, through the real parser and a Context,
with the scheduler's tick showing what each one does to posting."""
from collections import deque
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from agent.commands.parse import parse
from agent.events import Member, Message, Role, Say, Whisper
from agent.llm.prompts import Prompts
from agent.pipeline import Context, Services
from agent.schedule import commands
from agent.schedule.scheduler import Scheduler
from agent.schedule.store import ScheduleStore
from agent.settings import GroupConfig, Person, ScheduleConfig, Settings
from agent.store import Store

REPO = Path(__file__).resolve().parents[1]
CST = timezone(timedelta(hours=8))
NOW = datetime(2025, 3, 25, 10, 0, tzinfo=CST)  # a Tuesday


class KB:
    def search(self, query, scopes, k=5):
        return [SimpleNamespace(file="training.md", heading="配速", text="轻松跑比目标配速慢60–90秒。")][:k]


@pytest.fixture
def services():
    friday = ScheduleConfig(id="fri-night", when="weekly Fri 21:00", text="周末长距离别忘了报名", approval="auto")
    tip = ScheduleConfig(id="tip", when="weekly Wed 09:00", kind="tip", lead_hours=24)
    run = GroupConfig(id="run", name="跑团", theme="跑步训练", owners=[Person(id="owner")], schedules=[friday, tip])
    other = GroupConfig(id="other", name="别的群", theme="读书", owners=[Person(id="stranger")])
    settings = Settings(groups={"run": run, "other": other})
    return Services(settings=settings, store=Store(":memory:"), kb=KB(), prompts=Prompts(REPO / "prompts"))


def ctx(services, gid="run"):
    return Context(group=services.settings.groups[gid], services=services, recent=deque())


def say(services, text, sender="owner", gid="run", ts=NOW, n=[0]):
    """Run one owner message through the parser and the schedule handler it names."""
    n[0] += 1
    msg = Message(id=f"m{n[0]}", group_id=gid, sender=Member(sender, "", Role.OWNER), text=text, ts=ts, to_bot=True)
    parsed = parse(msg)
    assert parsed.spec.handler.__module__ == commands.__name__, parsed.spec.name  # declared by the schedule feature
    return parsed.spec.handler(parsed, msg, ctx(services, gid))


def tick(services, at):
    s = services
    return Scheduler(s.settings, s.store, s.kb, s.prompts).tick(at)


def posts(actions):
    return [a.text for a in actions if isinstance(a, Say)]


def test_add_by_slash_with_an_iso_time_posts_then(services):
    reply = say(services, "/schedule add 2025-03-26 19:50 提醒大家带反光背心")
    assert isinstance(reply[0], Say) and "#1" in reply[0].text and "3月26日（周三）19:50" in reply[0].text
    assert posts(tick(services, datetime(2025, 3, 26, 19, 49, tzinfo=CST))) == []
    assert posts(tick(services, datetime(2025, 3, 26, 19, 50, tzinfo=CST))) == ["⏰ 提醒：大家带反光背心"]


def test_add_by_chinese_phrase(services):
    reply = say(services, "明天早上9点提醒大家带反光背心")
    assert "3月26日（周三）09:00" in reply[0].text
    assert posts(tick(services, datetime(2025, 3, 26, 9, 0, tzinfo=CST))) == ["⏰ 提醒：大家带反光背心"]


@pytest.mark.parametrize("text, expect", [
    ("/schedule add 2025-03-01 09:00 太晚了", "已经过去"),
    ("/schedule add 每天 8:30 打卡", "群配置"),
    ("/schedule add 提醒大家带反光背心", "用法"),
    ("/schedule add 明天9点 " + "很长" * 400, "上限"),
])
def test_add_refuses_with_a_reason(services, text, expect):
    assert expect in say(services, text)[0].text
    assert posts(tick(services, NOW + timedelta(days=2))) == []


def test_list_shows_one_offs_drafts_and_undrafted_slots(services):
    say(services, "/schedule add 2025-03-26 19:50 提醒大家带反光背心")
    tick(services, NOW)  # nothing drafted yet: the tip is due for drafting on Tuesday 09:00 -> drafted now
    reply = say(services, "/schedule list")
    text = reply[0].text
    assert "#1" in text and "已通过" in text and "提醒：大家带反光背心" in text
    assert "#2" in text and "tip" in text and "待审批" in text
    # Friday's post is days from its drafting time: the list drafts it now (auto: approved as drafted)
    assert "#3 3月28日（周五）21:00 fri-night（已通过）周末长距离别忘了报名" in text
    assert "4月2日（周三）09:00 tip（还没起草）" in text  # only the next slot of each schedule
    assert [a.contact_id for a in reply[1:]] == ["owner"] and "#3" in reply[1].text


def test_a_schedule_just_configured_has_a_draft_to_approve_after_the_list(services):
    tip = next(s for s in services.settings.groups["run"].schedules if s.id == "tip")
    tip.lead_hours = 1  # next Wednesday 09:00 would be drafted only on Wednesday 08:00
    assert "没有找到" in say(services, "/approve 1")[0].text
    reply = say(services, "/schedule list")
    assert "tip（待审批）" in reply[0].text
    review = next(a for a in reply if isinstance(a, Whisper) and "tip" in a.text)
    number = review.text.split("#", 1)[1].split("（", 1)[0]
    assert "已通过" in say(services, f"/approve {number}")[0].text
    assert len(posts(tick(services, datetime(2025, 3, 26, 9, 0, tzinfo=CST)))) == 1
    assert say(services, "/schedule list")[1:] == []  # drafted once: a second list drafts nothing new


def test_cancel_by_time_words_stops_a_configured_slot(services):
    reply = say(services, "取消周五21:00那条推送")
    assert "已取消" in reply[0].text and "fri-night" in reply[0].text
    friday = datetime(2025, 3, 28, 21, 0, tzinfo=CST)
    assert tick(services, friday - timedelta(hours=24)) == [] and posts(tick(services, friday)) == []


def test_cancel_by_id(services):
    say(services, "/schedule add 2025-03-26 19:50 提醒大家带反光背心")
    assert "已取消" in say(services, "/schedule cancel 1")[0].text
    assert posts(tick(services, datetime(2025, 3, 26, 19, 50, tzinfo=CST))) == []
    assert "没找到" in say(services, "/schedule cancel 1")[0].text


def test_reschedule_is_one_move_not_two_posts(services):
    say(services, "/schedule add 2025-03-26 08:00 周六集合改到6:00")
    reply = say(services, "帮我把明天早上8点那条推送改到10点")
    assert "改到 3月26日（周三）10:00" in reply[0].text
    assert posts(tick(services, datetime(2025, 3, 26, 8, 0, tzinfo=CST))) == []
    assert posts(tick(services, datetime(2025, 3, 26, 10, 0, tzinfo=CST))) == ["周六集合改到6:00"]


def test_a_bare_hour_keeps_the_half_of_the_day(services):
    say(services, "明天晚上8点提醒各位带上头灯")
    assert "改到 3月26日（周三）20:30" in say(services, "帮我把明天晚上8点的提醒改到8点半")[0].text
    assert "已取消" in say(services, "取消周三20:30那条提醒")[0].text


def test_two_posts_at_one_time_are_named_by_id(services):
    say(services, "/schedule add 2025-03-26 09:00 周六集合改到6:00")  # the tip is also due Wednesday 09:00
    reply = say(services, "帮我把明早9点那条推送改到10点")
    assert "不止一条" in reply[0].text and "#1" in reply[0].text and "tip" in reply[0].text
    assert "改到 3月26日（周三）10:00" in say(services, "帮我把#1的推送改到10点")[0].text
    assert posts(tick(services, datetime(2025, 3, 26, 10, 0, tzinfo=CST))) == ["周六集合改到6:00"]


def test_moving_a_slot_not_drafted_yet_drafts_it_for_review(services):
    reply = say(services, "帮我把周五21:00的推送改到22:00")
    assert "改到 3月28日（周五）22:00" in reply[0].text
    assert any(isinstance(a, Whisper) and "22:00" in a.text for a in reply)  # owners see the draft now
    assert posts(tick(services, datetime(2025, 3, 28, 21, 0, tzinfo=CST))) == []
    assert posts(tick(services, datetime(2025, 3, 28, 22, 0, tzinfo=CST))) == ["周末长距离别忘了报名"]


def test_approve_in_chinese_then_posted(services):
    review = tick(services, NOW - timedelta(hours=1))  # Tuesday 09:00: the Wednesday tip is drafted
    assert [a.contact_id for a in review if isinstance(a, Whisper)] == ["owner"]
    reply = say(services, "通过草稿1")
    assert isinstance(reply[0], Whisper) and "已通过" in reply[0].text
    wednesday = datetime(2025, 3, 26, 9, 0, tzinfo=CST)
    assert len(posts(tick(services, wednesday))) == 1
    assert "已经发出去了" in say(services, "/approve 1")[0].text


def test_edit_replaces_and_approves(services):
    tick(services, NOW)
    reply = say(services, "/edit 1 今天的小贴士：跑前热身10分钟。")
    assert "已修改并通过" in reply[0].text
    assert posts(tick(services, datetime(2025, 3, 26, 9, 0, tzinfo=CST))) == ["今天的小贴士：跑前热身10分钟。"]


def test_skip_means_not_posted(services):
    tick(services, NOW)
    assert "不发了" in say(services, "/skip 1")[0].text
    assert posts(tick(services, datetime(2025, 3, 26, 9, 0, tzinfo=CST))) == []


def test_owners_of_another_group_cannot_review_its_drafts(services):
    tick(services, NOW)
    reply = say(services, "/approve 1", sender="stranger", gid="other")
    assert "没有找到" in reply[0].text
    assert ScheduleStore(services.store).get(1).status == "pending"
