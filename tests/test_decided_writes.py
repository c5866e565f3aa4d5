"""A decision's strikes and gaps land in the transaction that marks its message seen.

A crash is simulated by raising between the steps: after the route recorded its writes and before the
seen mark, and inside the seen transaction itself. Neither may leave a strike or gap for a message
that is not seen, nor a seen message without its strike; the redelivery then records them once.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from agent.events import Decision, DecisionKind, Member, Message
from agent.llm.prompts import Prompts
from agent.pipeline import Pipeline, Services
from agent.state import tables
from agent.store import Store
from pg import postgres, postgres_url, state_url  # noqa: F401  (fixtures)

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
def store(state_url):
    s = Store(state_url)
    yield s
    s.close()


@pytest.fixture
def pipeline(settings, repo, store):
    return Pipeline(Services(settings=settings, store=store, kb=None, prompts=Prompts(repo / "prompts")),
                    [Recording()])


def _msg(i: int, text: str) -> Message:
    return Message(id=f"m{i}", group_id="demo", sender=Member("wxid_m", "某人"), text=text, ts=T0)


def _rows(store: Store, table: str, message_id: str) -> int:
    rows = tables.metadata.tables[table]
    return len(store.rows(sa.select(rows).where(rows.c.message_id == message_id)))


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
    real = Store.transaction

    class Failing:
        def __init__(self, conn):
            self.conn = conn

        def execute(self, statement, *args):
            if getattr(statement, "table", None) is tables.strikes and statement.is_insert:
                raise Crash
            return self.conn.execute(statement, *args)

    @contextmanager
    def transaction(self):
        with real(self) as conn:
            yield Failing(conn)

    monkeypatch.setattr(Store, "transaction", transaction)
    with pytest.raises(Crash):
        pipeline.dispatch(_msg(2, "发广告了"))
    monkeypatch.setattr(Store, "transaction", real)
    assert not store.seen("m2") and _rows(store, "strikes", "m2") == 0


def test_two_accounts_deciding_one_message_decide_it_once(store, state_url):
    """Two processes (two bot accounts in one room) get the same message and both find it unseen:
    the seen row's key lets one decision land, with its strike, and drops the other's."""
    other = Store(state_url)
    try:
        assert not store.seen("m3") and not other.seen("m3")
        landed = []
        for s in (store, other):
            with s.deciding():
                s.add_strike("demo", "wxid_m", "ad", 1, "m3", "发广告了", T0)
                landed.append(s.decided("m3", T0, "violation"))
        assert landed == [True, False]
        assert _rows(store, "strikes", "m3") == 1 and _rows(other, "strikes", "m3") == 1
    finally:
        other.close()


def test_a_case_opened_while_deciding_is_linked_to_its_strike(store):
    """The strike is still held when the route opens the case: the held insert is given the case's id,
    and a dismissal withdraws that strike, not another of the same minute."""
    from agent.state import moderation

    store.add_strike("demo", "wxid_m", "ad", 1, "m0", "早先的一条", T0)  # same member, same time
    with store.deciding():
        store.add_strike("demo", "wxid_m", "ad", 1, "m4", "发广告了", T0)
        case_id = store.open_case("demo", "wxid_m", "ad", 1, "kick", T0)
        store.decided("m4", T0, "violation")
    assert moderation.evidence(store, case_id) == "发广告了"
    assert moderation.close_case(store, case_id, "dismiss", "owner", T0 + timedelta(hours=1))
    assert [s["message_id"] for s in store.strikes("demo", "wxid_m")] == ["m0"]
    assert not moderation.close_case(store, case_id, "kick", "owner2", T0 + timedelta(hours=2))


def test_a_warning_lands_with_its_decision_or_not_at_all(store):
    from agent.state import moderation

    for decided in (False, True):
        with store.deciding():
            moderation.remember_warning(store, "demo", "m5", None, "wxid_m", "某人", "ad", "请勿发广告", T0,
                                        forget_before=T0 - timedelta(days=3))
            if decided:
                store.decided("m5", T0, "violation")
        assert len(moderation.recent_warnings(store, "demo", T0 - timedelta(hours=1))) == int(decided)


def test_writes_outside_a_decision_land_at_once(store):
    """The CLI, the scheduler and owners' tools write directly: nothing is held for them."""
    assert store.add_strike("demo", "wxid_a", "manual", None, "w1", "说明", T0) > 0
    assert store.add_gap("demo", "wxid_a", "q1", "问题？", False, T0) > 0
    store.decided("x1", T0, "ignore")
    assert store.add_strike("demo", "wxid_a", "manual", None, "w2", "说明", T0) > 0
    assert _rows(store, "strikes", "w2") == 1


def test_a_mute_lands_with_its_decision_and_a_dropped_decision_leaves_no_case(store, state_url):
    """Two processes decide one message that earns a mute and a case: the winner's mute and case
    stay; the loser's case (written at once for its number) is removed with its dropped decision."""
    from agent.moderation.ladder import is_paused, pause

    other = Store(state_url)
    try:
        cases = []
        for s, landed in ((store, True), (other, False)):
            with s.deciding():
                s.add_strike("demo", "wxid_m", "scam", 2, "m6", "先付定金", T0)
                cases.append(s.open_case("demo", "wxid_m", "scam", 2, "kick", T0))
                pause(s, "demo", "wxid_m", T0 + timedelta(hours=2))
                assert is_paused(s, "demo", "wxid_m", T0) is not landed  # the first one's is held until it lands
                assert s.decided("m6", T0, "violation") is landed
        assert is_paused(store, "demo", "wxid_m", T0 + timedelta(hours=1))
        assert [c["id"] for c in store.cases("demo")] == cases[:1] and cases[1] != cases[0]
    finally:
        other.close()
