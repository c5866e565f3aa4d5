"""The outbox repository on SQLite: rows land with the decision or the post's claim that made them,
are found again while unsent, and are sent once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from agent.events import Kick, Say, SendImage, Whisper
from agent.schedule.store import ScheduleStore
from agent.state import outbox
from agent.store import Store

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


class InFlight:
    """Stands in for the runner's in-flight set."""

    def __init__(self):
        self.keys: set[str] = set()

    def __call__(self, key: str) -> bool:
        if key in self.keys:
            return False
        self.keys.add(key)
        return True


def test_a_reply_row_lands_with_its_decision_and_not_without_it():
    store = Store()
    flight = InFlight()
    with outbox.sending_as("acct-a", flight) as written:
        with store.deciding():
            outbox.hold(store, "msg:m1:0", Say("g", "你好", ("wxid_x",)), NOW)
            assert outbox.rows(store) == []  # held until the decision's transaction
            assert store.decided("m1", NOW, "answer")
        with store.deciding():  # a second delivery of m1: its decision is dropped, and its row with it
            outbox.hold(store, "msg:m1:1", Say("g", "again"), NOW)
            assert not store.decided("m1", NOW, "answer")
    [row] = outbox.rows(store)
    assert (row["key"], row["account"], row["conversation"], row["status"]) == ("msg:m1:0", "acct-a", "g", "decided")
    assert [k for k, _ in written] == ["msg:m1:0", "msg:m1:1"] and flight.keys == {"msg:m1:0", "msg:m1:1"}


def test_no_row_outside_a_runner():
    store = Store()
    with store.deciding():
        outbox.hold(store, "msg:m1:0", Say("g", "hi"), NOW)
        store.decided("m1", NOW, "answer")
    assert outbox.rows(store) == []


def test_a_post_row_lands_with_its_claim_once(tmp_path):
    store = Store(tmp_path / "s.db")
    drafts = ScheduleStore(store)
    draft_id = drafts.add("g", "weekly", NOW, "本周提示", [], ["g", "h"], "approved", "auto", NOW)
    draft = drafts.get(draft_id)
    with outbox.sending_as("acct-a", InFlight()):
        assert drafts.claim(draft, "g", "sent", NOW, send=Say("g", draft.text))
        assert not drafts.claim(draft, "g", "sent", NOW, send=Say("g", draft.text))  # claimed already
    assert [r["key"] for r in outbox.rows(store)] == [outbox.key_of_post(draft_id, "g")]


def test_unsent_rows_are_resumed_once_then_marked_sent(tmp_path):
    store = Store(tmp_path / "s.db")
    actions = [Say("g", "一", ("wxid_a",)), Whisper("wxid_owner", "二"), SendImage("/tmp/c.png", group_id="g"),
               Kick("g", "wxid_b")]
    with outbox.sending_as("acct-a", InFlight()):
        with store.deciding():
            for n, action in enumerate(actions):
                outbox.hold(store, outbox.key_of_reply("m1", n), action, NOW)
            store.decided("m1", NOW, "answer")
    with outbox.sending_as("acct-b", InFlight()):  # another account's rows are not its to send
        assert outbox.resumable(store, NOW + timedelta(seconds=5)) == []
    flight = InFlight()
    flight("msg:m1:1")  # this runner is sending that one already
    with outbox.sending_as("acct-a", flight) as written:
        assert outbox.resumable(store, NOW) == []  # not older than the cut-off
        resumed = outbox.resumable(store, NOW + timedelta(seconds=5))
    assert resumed == [actions[0], actions[2], actions[3]]  # round-tripped through JSON, in order
    assert [k for k, _ in written] == ["msg:m1:0", "msg:m1:2", "msg:m1:3"]
    assert outbox.done(store, "msg:m1:0", NOW, "puppet-17")
    assert not outbox.done(store, "msg:m1:0", NOW, "puppet-18")  # sent already: the first id stays
    assert outbox.done(store, "msg:m1:2", NOW, failed=True)
    by_key = {r["key"]: r for r in outbox.rows(store, "acct-a")}
    assert by_key["msg:m1:0"]["status"] == "sent" and by_key["msg:m1:0"]["message_id"] == "puppet-17"
    assert by_key["msg:m1:2"]["status"] == "failed"
    with outbox.sending_as("acct-a", InFlight()):
        assert outbox.resumable(store, NOW + timedelta(seconds=5)) == [actions[1], actions[3]]


def test_a_row_marked_between_the_sweeps_read_and_its_claim_is_not_sent_again(tmp_path, monkeypatch):
    """The sweep reads a row still decided; before it claims the key, the runner's own send is marked
    and the key released (the order the runner keeps). The sweep must not send it a second time."""
    store = Store(tmp_path / "s.db")
    reply = Say("g", "一", ("wxid_a",))
    with outbox.sending_as("acct-a", InFlight()):
        with store.deciding():
            outbox.hold(store, outbox.key_of_reply("m1", 0), reply, NOW)
            store.decided("m1", NOW, "answer")
    read = outbox.unsent

    def read_then_marked(*args):
        rows = read(*args)
        outbox.done(store, outbox.key_of_reply("m1", 0), NOW, "puppet-1")  # lands while the sweep holds its read
        return rows

    monkeypatch.setattr(outbox, "unsent", read_then_marked)
    with outbox.sending_as("acct-a", InFlight()) as written:
        assert outbox.resumable(store, NOW + timedelta(seconds=5)) == []
    assert [k for k, _ in written] == [outbox.key_of_reply("m1", 0)]  # claimed, so the runner releases it
    assert [r["message_id"] for r in outbox.rows(store)] == ["puppet-1"]
