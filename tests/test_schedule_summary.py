"""A daily summary scheduled into the group (unit tier, the real pipeline and scheduler): drafted from
the day's transcript an hour before its slot, sent to the owners for review, posted only on approval,
never quoting a violation."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from agent.events import Member, Message, Say, Whisper
from agent.policies import ScheduleConfig

CST = timezone(timedelta(hours=8))
DAY = datetime(2025, 3, 10, tzinfo=CST)
AD = "工厂直销跑鞋三折 加我微信 shoes_88888 下单"


def run(app, text, sender, at):
    group = app.settings.groups["demo"]
    m = Message(id=f"s-{sender}-{at.isoformat()}", group_id="demo", sender=Member(sender, group.name_of(sender)),
                text=text, ts=at)
    return app.pipeline.dispatch(m)


def test_a_scheduled_summary_is_drafted_from_the_day_reviewed_and_posted_on_approval(app):
    group = app.settings.groups["demo"]
    owner, a, b = group.owners[0].id, group.members[0].id, group.members[1].id
    group.schedules = [ScheduleConfig(id="daily-summary", when="daily 21:00", kind="summary")]
    assert group.schedules[0].lead_hours == 1  # drafted late enough to cover the day
    run(app, "本周六长距离改到早上7点集合，地点不变", owner, DAY.replace(hour=9))
    run(app, "周六的配速大概多少？想跟着跑一次", a, DAY.replace(hour=10))
    run(app, "我一般跑6分配，可以一起", b, DAY.replace(hour=10, minute=5))
    assert run(app, AD, "wxid_demo_tangtang", DAY.replace(hour=11)).kind.value == "violation"
    assert app.scheduler.tick(DAY.replace(hour=19, minute=30)) == []  # not drafted a day ahead
    review = app.scheduler.tick(DAY.replace(hour=20, minute=1))
    texts = {x.text for x in review if isinstance(x, Whisper) and x.contact_id == owner}
    assert len(texts) == 1 and not any(isinstance(x, Say) for x in review)
    [draft] = texts
    assert "7点集合" in draft and "shoes_88888" not in draft and "三折" not in draft
    assert not [x for x in app.scheduler.tick(DAY.replace(hour=20, minute=30)) if isinstance(x, Say)]
    number = re.search(r"#(\d+)", draft).group(1)
    approved = run(app, f"/approve {number}", owner, DAY.replace(hour=20, minute=40))
    assert approved.detail["permitted"]
    [post] = [x for x in app.scheduler.tick(DAY.replace(hour=21, minute=1)) if isinstance(x, Say)]
    assert post.group_id == "demo" and "7点集合" in post.text and "shoes_88888" not in post.text
    assert len(post.text) <= group.summary.max_chars


def test_a_day_without_messages_posts_nothing_and_tells_the_owners_why(app):
    group = app.settings.groups["demo"]
    group.schedules = [ScheduleConfig(id="daily-summary", when="daily 21:00", kind="summary")]
    told = app.scheduler.tick(DAY.replace(hour=20, minute=1))
    assert told and all(isinstance(x, Whisper) for x in told) and "没有可以总结的消息" in told[0].text
    assert not [x for x in app.scheduler.tick(DAY.replace(hour=21, minute=1)) if isinstance(x, Say)]
