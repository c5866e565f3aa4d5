"""A recalled message leaves the catch-up summaries: the transcript keeps its row, not its words.
Through the pipeline (unit tier), and through the loopback puppet and python-wechaty (e2e)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from agent.events import Member, Message, Recall, Whisper
from agent.summary import record
from agent.summary.compose import EntryKind

CST = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 10, 10, 0, tzinfo=CST)
SECRET = "我家门禁密码是4471，周六大家直接上来"


def entries(app):
    return {e.text or e.kind: e.kind for e in record.entries(app.store, "demo", T0 - timedelta(days=1), T0 + timedelta(days=1))}


def test_a_recall_hides_the_row_and_the_summary_never_quotes_it(app):
    group = app.settings.groups["demo"]
    a, b = group.members[0].id, group.members[1].id
    said = Message(id="m-secret", group_id="demo", sender=Member(a, "小雨"), text=SECRET, ts=T0)
    app.pipeline.dispatch(said)
    app.pipeline.dispatch(Message(id="m-other", group_id="demo", sender=Member(b, "大飞"), text="周六几点出发？",
                                  ts=T0 + timedelta(minutes=1)))
    assert SECRET in entries(app)
    recall = Recall(id="r-1", group_id="demo", sender=Member(a, "小雨"), text="", ts=T0 + timedelta(minutes=2),
                    recalled="m-secret")
    assert app.pipeline.dispatch(recall) is None  # nothing to decide, nothing said
    rows = record.entries(app.store, "demo", T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert [(e.kind, e.text) for e in rows if e.sender_id == a] == [(EntryKind.HIDDEN, "")]
    asked = Message(id="m-ask", group_id="demo", sender=Member(b, "大飞"), text="/summary 3h", ts=T0 + timedelta(minutes=3))
    [summary] = [x for x in app.pipeline.dispatch(asked).actions if isinstance(x, Whisper)]
    assert "4471" not in summary.text and "门禁" not in summary.text
    other = Recall(id="r-2", group_id="elsewhere", sender=Member(a), text="", ts=T0, recalled="m-other")
    assert app.pipeline.dispatch(other) is None  # an unmanaged group's recall touches nothing here
    assert "周六几点出发？" in entries(app)


@pytest.mark.e2e
async def test_a_recall_through_wechaty_hides_the_transcript_row(app):
    from agent.testing.puppet import LoopbackPuppet
    from agent.testing.rig import on_loopback

    group = app.settings.groups["demo"]
    group.room_id = "room-demo"  # bound by config: no /bind needed
    member = group.members[0].id
    lb = LoopbackPuppet([group], bot_name=group.bot_name)
    async with on_loopback(app.settings, app.pipeline, puppet=lb):
        lb.say(group, member, SECRET, message_id="wx-secret")
        await lb.wait_for(lambda: any(SECRET == e.text for e in _today(app)), 15)
        lb.recall(group, member, "wx-secret")
        await lb.wait_for(lambda: [e.kind for e in _today(app) if e.sender_id == member] == [EntryKind.HIDDEN], 15)
    assert not any("4471" in e.text for e in _today(app))


def _today(app):
    now = datetime.now(UTC)
    return record.entries(app.store, "demo", now - timedelta(hours=1), now + timedelta(hours=1))
