"""The weekly digest goes to the owners once a week at Monday 09:00 local, survives a restart without
resending, catches up after downtime; /stats answers owners privately with the same figures."""
from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image

from agent.analytics.commands import period, stats
from agent.analytics.digest import Digest
from agent.analytics.funnel import summary
from agent.commands.api import Parsed
from agent.commands.catalog import BY_NAME
from agent.events import Member, Message, Role, Say, SendImage, Whisper
from agent.llm.prompts import Prompts
from agent.pipeline import Context, Services
from agent.store import Store
from test_analytics_funnel import DAYS, REPO, START, feed, group, month, pipeline_for

UTC = timezone.utc
PROMPTS = Prompts(REPO / "prompts")


@pytest.fixture
def world(tmp_path, fed_month):
    """A month of events in a file-backed store; open questions: one asked twice, one once."""
    store = Store(fed_month(tmp_path / "state.db"))
    g = group()
    pipeline, _ = pipeline_for(store, g, data_dir=tmp_path / "data")
    for i, q in enumerate(["周末长距离在哪集合？", "周末长距离在哪集合", "能量胶吃几个"]):
        store.add_gap(g.id, f"wxid_f{i}", f"q{i}", q, False, datetime(2025, 3, 5, 3, i, tzinfo=UTC))
    return pipeline.services.settings, store, g


def hourly(digest: Digest, start: datetime, hours: int) -> list[tuple[datetime, list]]:
    sent = []
    for h in range(hours):
        now = start + timedelta(hours=h)
        actions = digest.tick(now)
        if actions:
            sent.append((now, actions))
    return sent


def test_sent_once_a_week_on_monday_morning_local(world):
    settings, store, g = world
    start = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)
    sent = hourly(Digest(settings, store, PROMPTS), start, 24 * (DAYS + 2))
    # Monday 09:00 in Shanghai is 01:00 UTC: four full weeks of the month, each reported once
    assert [t for t, _ in sent] == [datetime(2025, 3, d, 1, tzinfo=UTC) for d in (10, 17, 24, 31)]
    for t, actions in sent:
        assert [type(a) for a in actions] == [Whisper, SendImage]
        assert all(getattr(a, "contact_id") == "wxid_owner" for a in actions) and actions[1].group_id is None
        week = (t + timedelta(hours=8)).date() - timedelta(days=7)
        assert f"{week} 至 {week + timedelta(days=6)}" in actions[0].text


def test_a_restart_does_not_resend(world, tmp_path):
    settings, store, g = world
    monday = datetime(2025, 3, 17, 1, 0, tzinfo=UTC)
    first = Digest(settings, store, PROMPTS).tick(monday)
    assert "2025-03-10 至 2025-03-16" in first[0].text  # only the latest week, though Mar 3's was never sent
    store.close()  # the process stops
    reopened = Store(tmp_path / "state.db")
    again = Digest(settings, reopened, PROMPTS)
    assert again.tick(monday + timedelta(minutes=30)) == []
    assert again.tick(monday + timedelta(days=6)) == []
    assert again.tick(monday + timedelta(days=7))  # the next Monday


def test_after_downtime_the_latest_week_is_sent_once(world):
    settings, store, g = world
    digest = Digest(settings, store, PROMPTS)
    wednesday = datetime(2025, 3, 19, 6, 0, tzinfo=UTC)  # the bot was down on Monday the 17th
    actions = digest.tick(wednesday)
    assert "2025-03-10 至 2025-03-16" in actions[0].text
    assert digest.tick(wednesday + timedelta(hours=1)) == []


def test_new_york_gets_it_at_nine_new_york_time(tmp_path):
    store = Store(":memory:")
    g = group("ny", "America/New_York", lang="en")
    pipeline, route = pipeline_for(store, g, data_dir=tmp_path)
    feed(pipeline, route, month("ny", "America/New_York"))
    sent = hourly(Digest(pipeline.services.settings, store, PROMPTS), datetime(2025, 3, 10, 0, tzinfo=UTC), 24 * 8)
    assert [t for t, _ in sent] == [datetime(2025, 3, 10, 13, tzinfo=UTC), datetime(2025, 3, 17, 13, tzinfo=UTC)]
    assert sent[0][1][0].text.startswith("群ny: last week's digest (2025-03-03 to 2025-03-09)")


def test_the_digest_text_chart_and_to_do(world):
    settings, store, g = world
    digest = Digest(settings, store, PROMPTS)
    week = digest.due(g, datetime(2025, 3, 10, 1, tzinfo=UTC))
    whisper, image = digest.build(g, week)
    s = summary(store, g, week, week + timedelta(days=6))
    assert f"消息 {s.messages} 条，{s.active} 人发言" in whisper.text
    assert f"回答 {s.answered}，不会 {s.unknown}" in whisper.text
    assert "共 2 个；回复 /answer 编号 答案" in whisper.text  # the /gaps inbox, near-duplicates merged
    assert whisper.text.endswith("#1（2人问过）周末长距离在哪集合？\n#2（1人问过）能量胶吃几个")
    with Image.open(image.path) as png:
        assert png.format == "PNG" and png.width > 400 and png.height > 400


def test_nothing_for_a_week_without_records_or_a_group_without_owners(tmp_path):
    store = Store(":memory:")
    lonely = group("lonely")
    lonely.owners = []
    pipeline, route = pipeline_for(store, group("quiet"), lonely, data_dir=tmp_path)
    feed(pipeline, route, month("lonely"))
    digest = Digest(pipeline.services.settings, store, PROMPTS)
    assert digest.tick(datetime(2025, 3, 10, 1, tzinfo=UTC)) == []
    assert digest.due(group("quiet"), datetime(2025, 3, 10, 2, tzinfo=UTC)) is None  # handled, not retried


# ---- /stats -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, days", [("", 7), ("7d", 7), ("30d", 30), ("30天", 30), ("本周", 7), ("本月", 30),
                                        ("month", 30), ("14 days", 14), ("999d", 90)])
def test_period_words(text, days):
    assert period(text) == days


def ask(world, text: str, private: bool = False) -> list:
    settings, store, g = world
    ctx = Context(g, Services(settings=settings, store=store, kb=None, prompts=PROMPTS), deque())
    msg = Message("s1", g.id, Member("wxid_owner", "群主", Role.OWNER), f"/stats {text}",
                  datetime(2025, 4, 1, 12, tzinfo=UTC), private=private)
    return stats(Parsed(BY_NAME["stats"], text, slash=True), msg, ctx)


def test_stats_goes_to_the_owner_privately_with_the_chart(world):
    whisper, image, ack = ask(world, "30d")
    settings, store, g = world
    s = summary(store, g, START + timedelta(days=DAYS - 30), START + timedelta(days=DAYS - 1))
    assert isinstance(whisper, Whisper) and whisper.contact_id == "wxid_owner"
    assert whisper.text.startswith("最近30天（2025-03-03 至 2025-04-01）")
    assert f"消息 {s.messages} 条" in whisper.text and f"新成员 {s.newcomers} 人" in whisper.text
    assert isinstance(image, SendImage) and image.contact_id == "wxid_owner" and Path(image.path).is_file()
    assert isinstance(ack, Say) and ack.mentions == ("wxid_owner",) and "私信" in ack.text
    assert str(s.messages) not in ack.text


def test_stats_in_a_private_chat_needs_no_note_in_the_group(world):
    actions = ask(world, "", private=True)
    assert [type(a) for a in actions] == [Whisper, SendImage]
    assert actions[0].text.startswith("最近7天（2025-03-26 至 2025-04-01）")


def test_the_english_group_reads_english(world):
    settings, store, g = world
    g.language = "en"
    whisper = ask(world, "7d")[0]
    assert whisper.text.startswith("Last 7 days (2025-03-26 to 2025-04-01)") and "answer rate" in whisper.text


def test_silent_members_are_named_in_the_reply(world):
    settings, store, g = world
    s = summary(store, g, START + timedelta(days=DAYS - 7), START + timedelta(days=DAYS - 1))
    whisper = ask(world, "7d")[0]
    assert f"入群后未发言 {len(s.silent_never)} 人（" in whisper.text
    assert all(s.name(m) in whisper.text for m in s.silent_never[:5]) and s.name(s.silent_never[0]) != s.silent_never[0]


def test_a_digest_that_fails_to_build_is_tried_again(world, monkeypatch):
    settings, store, g = world
    digest = Digest(settings, store, PROMPTS)
    monday = datetime(2025, 3, 17, 1, 0, tzinfo=UTC)
    monkeypatch.setattr("agent.analytics.charts.save", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    assert digest.tick(monday) == []
    monkeypatch.undo()
    assert digest.tick(monday + timedelta(minutes=1))


def test_estimated_model_cost_from_the_configured_price():
    from agent.analytics import wording
    from agent.settings import LLMSettings

    priced = LLMSettings(price_per_million_tokens=2.0, currency="¥")
    assert wording.cost(250_000, priced) == "0.50"
    assert wording.cost(250_000, LLMSettings()) == ""  # no price configured: no estimate
    assert wording.cost(0, priced) == ""
