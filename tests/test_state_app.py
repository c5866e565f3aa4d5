"""The whole bot on PostgreSQL (store.url), and two bot processes (two accounts in one room) on one
database: a message both receive is decided and answered once."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from agent.channels.memory import MemoryChannel
from agent.events import Member, Message, Whisper
from agent.state import moderation
from pg import postgres, postgres_url  # noqa: F401  (fixtures)

SCAM = "转让半马名额，先付定金500元，私聊我微信 pay_8888，名额不多先到先得"
pytestmark = pytest.mark.e2e


@pytest.fixture
def pg_settings(settings, postgres_url):
    settings.store.url = postgres_url
    return settings


def _app(settings):
    from agent.app import build

    app = build(settings, llm=None)
    app.sync_knowledge()
    return app


def test_the_bot_runs_on_postgresql(pg_settings):
    app = _app(pg_settings)
    try:
        assert app.store.dialect == "postgresql"
        group = app.settings.groups["demo"]
        owner, member = group.owners[0], group.members[0]
        ch = MemoryChannel(app.pipeline, group, clock=datetime(2025, 3, 10, 4, 0, tzinfo=timezone.utc))
        scam = ch.send(member.id, SCAM)
        files = [a.text for a in scam.actions if isinstance(a, Whisper)]
        case = app.store.cases(group.id, "open")[0]
        assert files and f"{case['id']}" in files[0]
        assert moderation.evidence(app.store, case["id"]) == SCAM  # the case's strike, by its foreign key
        ch.send(owner.id, f"/case {case['id']} dismiss")
        assert app.store.cases(group.id, "closed")[0]["decision"] == "dismiss"
        assert app.store.strikes(group.id, member.id) == []  # withdrawn with the case
        ch.send(owner.id, "/mute 90m")
        assert app.store.get(f"mute:{group.id}")
    finally:
        app.close()


def test_two_processes_in_one_room_decide_a_message_once(pg_settings, monkeypatch):
    """The second process looked before the first one's decision landed (its seen check said no):
    it decides too, and the seen row's key drops its decision, its strike and the case it opened."""
    first, second = _app(pg_settings), _app(pg_settings)
    monkeypatch.setattr(second.store, "seen", lambda message_id: False)
    try:
        group = first.settings.groups["demo"]
        member = group.members[0]
        message = Message(id="wx-msg-1", group_id=group.id, sender=Member(member.id, member.name), text=SCAM,
                          ts=datetime(2025, 3, 10, 4, 0, tzinfo=timezone.utc))
        decided = [app.pipeline.dispatch(message) for app in (first, second)]
        assert decided[0] is not None and decided[0].actions and decided[1] is None  # answered once
        assert len(first.store.strikes(group.id, member.id)) == 1 and len(second.store.cases(group.id)) == 1
    finally:
        first.close()
        second.close()
