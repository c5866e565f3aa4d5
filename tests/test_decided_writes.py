"""A decision's strikes and gaps land in the transaction that marks its message seen.

A crash is simulated by raising between the steps: after the route recorded its writes and before the
seen mark, and inside the seen transaction itself. Neither may leave a strike or gap for a message
that is not seen, nor a seen message without its strike; the redelivery then records them once.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from agent.events import Decision, DecisionKind, Member, Message
from agent.llm.prompts import Prompts
from agent.pipeline import Pipeline, Services
from agent.store import Store

T0 = datetime(2025, 3, 10, 10, 0, tzinfo=timezone(timedelta(hours=8)))


class Crash(BaseException):
    """Stands for the process dying: nothing in the pipeline catches it."""


class Recording:
    """A route that records as the moderation and answer routes do: a strike, or a gap."""

    name = "recording"

    def match(self, message, ctx):
        return True

    def handle(self, message, ctx):
        store = ctx.services.store
        if "广告" in message.text:
            store.add_strike(ctx.group.id, message.sender.id, "ad", 1, message.id, message.text, message.ts)
            return Decision(DecisionKind.VIOLATION, message.id, self.name)
        store.add_gap(ctx.group.id, message.sender.id, message.id, message.text, False, message.ts)
        return Decision(DecisionKind.UNKNOWN, message.id, self.name)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "steward.db")
    yield s
    s.close()


@pytest.fixture
def pipeline(settings, repo, store):
    return Pipeline(Services(settings=settings, store=store, kb=None, prompts=Prompts(repo / "prompts")),
                    [Recording()])


def _msg(i: int, text: str) -> Message:
    return Message(id=f"m{i}", group_id="demo", sender=Member("wxid_m", "某人"), text=text, ts=T0)


def _rows(store: Store, table: str, message_id: str) -> int:
    return len(store.query(f"SELECT 1 FROM {table} WHERE message_id = ?", (message_id,)))


@pytest.mark.parametrize("text,table", [("发广告了", "strikes"), ("停车场在哪里？", "gaps")])
def test_a_crash_before_the_seen_mark_leaves_no_record_and_the_redelivery_records_once(
        pipeline, store, monkeypatch, text, table):
    decided = Store.decided

    def crash(self, *args, **kwargs):
        raise Crash

    monkeypatch.setattr(Store, "decided", crash)
    with pytest.raises(Crash):
        pipeline.dispatch(_msg(1, text))
    assert not store.seen("m1") and _rows(store, table, "m1") == 0

    monkeypatch.setattr(Store, "decided", decided)
    assert pipeline.dispatch(_msg(1, text)) is not None  # the redelivery after the restart
    assert store.seen("m1") and _rows(store, table, "m1") == 1
    assert pipeline.dispatch(_msg(1, text)) is None and _rows(store, table, "m1") == 1


def test_a_crash_inside_the_seen_transaction_lands_nothing(pipeline, store, monkeypatch):
    """The seen row is written first; failing the strike after it rolls the seen row back too."""
    real_tx = Store.tx

    class Failing:
        def __init__(self, db):
            self.db = db

        def execute(self, sql, params=()):
            if sql.startswith("INSERT INTO strikes"):
                raise Crash
            return self.db.execute(sql, params)

    from contextlib import contextmanager

    @contextmanager
    def tx(self):
        with real_tx(self) as db:
            yield Failing(db)

    monkeypatch.setattr(Store, "tx", tx)
    with pytest.raises(Crash):
        pipeline.dispatch(_msg(2, "发广告了"))
    monkeypatch.setattr(Store, "tx", real_tx)
    assert not store.seen("m2") and _rows(store, "strikes", "m2") == 0


def test_writes_outside_a_decision_land_at_once(store):
    """The CLI, the scheduler and owners' tools write directly: nothing is held for them."""
    assert store.add_strike("demo", "wxid_a", "manual", None, "w1", "说明", T0) > 0
    assert store.add_gap("demo", "wxid_a", "q1", "问题？", False, T0) > 0
    store.decided("x1", T0, "ignore")
    assert store.add_strike("demo", "wxid_a", "manual", None, "w2", "说明", T0) > 0
    assert _rows(store, "strikes", "w2") == 1
