"""One clock: with the server in New York and the group in Shanghai, every time the group is shown or
that is stored for it is Shanghai's: /mute's "安静到", /why, the knowledge stamp, a case file."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent import clock
from agent.channels.memory import MemoryChannel
from agent.events import Whisper

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def server_in_new_york(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_local_keeps_the_instant_and_reads_naive_as_wall_time():
    at = datetime(2025, 3, 10, 12, 0, tzinfo=NEW_YORK)
    shanghai = clock.local(at, "Asia/Shanghai")
    assert shanghai == at and (shanghai.day, shanghai.hour) == (11, 0)
    assert clock.local(datetime(2025, 3, 10, 12, 0), "Asia/Shanghai").hour == 12


def test_every_time_shown_to_the_group_is_on_its_clock(server_in_new_york, app):
    assert datetime.now().astimezone().utcoffset() != timedelta(hours=8)  # the server is not in Shanghai
    group = app.settings.groups["demo"]
    assert group.timezone == "Asia/Shanghai"
    owner, member = group.owners[0], group.members[0]
    # the channel stamps messages with the server's clock: 12:00 in New York is 00:00 the next day in Shanghai
    ch = MemoryChannel(app.pipeline, group, clock=datetime(2025, 3, 10, 12, 0).astimezone())
    muted = ch.send(owner.id, "/mute 90m")
    assert "01:30" in muted.reply and "13:30" not in muted.reply
    ch.send(owner.id, "/unmute")
    ch.send(owner.id, "/kb add 暗房钥匙在前台登记后领取。")
    stamps = "".join(p.read_text(encoding="utf-8") for p in (app.settings.kb.knowledge_dir / "demo").rglob("*.md"))
    assert "2025-03-11 00:0" in stamps and "2025-03-10 12:0" not in stamps
    ch.send(owner.id, f"/warn @{member.name} 刷屏")
    why = ch.send(member.id, "/why")
    assert "2025-03-11 00:0" in why.reply, why.reply
    stored = app.store.strikes(group.id, member.id)  # one instant, read back on the group's clock
    assert stored and all(clock.local(r["ts"], group.timezone).strftime("%Y-%m-%d %H") == "2025-03-11 00"
                          for r in stored)
    scam = ch.send(member.id, "转让半马名额，先付定金500元，私聊我微信 pay_8888，名额不多先到先得")
    files = [a.text for a in scam.actions if isinstance(a, Whisper)]  # the case file, to each owner
    assert len(files) == len(group.owners) and all("时间：2025-03-11 00:0" in t for t in files), files
    assert "· 2025-03-11 00:0" in files[0]  # and the strike before it
