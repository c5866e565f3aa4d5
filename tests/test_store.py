"""The store: de-duplication, transactions, and message text kept only as long as configured; on a
SQLite file and on a real PostgreSQL."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from agent.state import tables
from agent.store import Store
from pg import postgres, postgres_url, state_url  # noqa: F401  (fixtures)

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(state_url):
    s = Store(state_url)
    yield s
    s.close()


def test_a_decided_id_is_seen_after_a_restart(state_url):
    store = Store(state_url)
    assert not store.seen("m1")
    assert store.decided("m1", T0, "ignore") and not store.decided("m1", T0, "reply")
    store.close()
    again = Store(state_url)
    assert again.seen("m1")  # redelivered after a restart
    assert again.rows(sa.select(tables.seen.c.decision))[0]["decision"] == "ignore"
    again.close()


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute(tables.kv.insert().values(key="a", value="1"))
        raise RuntimeError("crash midway")
    assert store.get("a") is None


def test_purge_drops_text_past_retention_and_keeps_the_rest(store):
    store.add_gap("g", "wxid_a", "m-old", "老问题", False, T0 - timedelta(days=40))
    store.add_gap("g", "wxid_b", "m-new", "新问题", True, T0 - timedelta(days=2))
    old = store.add_strike("g", "wxid_a", "ad", 1, "m-old", "加我微信 abc123", T0 - timedelta(days=40))
    store.add_strike("g", "wxid_a", "ad", 1, "m-new", "加我微信 abc123", T0 - timedelta(days=2))
    store.decided("m-old", T0 - timedelta(days=40), "ignore")
    store.purge(T0, retention_days=30)
    assert [g["question"] for g in store.open_gaps("g")] == ["新问题"]
    strikes = {s["id"]: s["evidence"] for s in store.strikes("g", "wxid_a")}
    assert strikes[old] == "" and len(strikes) == 2  # the strike counts on; its text is gone
    assert not store.seen("m-old")  # the seen id was forgotten too


def test_clear_empties_every_table_for_a_sandbox(store):
    store.put("k", 1)
    store.add_gap("g", "a", "m", "q", False, T0)
    store.clear()
    assert store.get("k") is None and store.open_gaps("g") == []


def test_times_are_instants_whatever_offset_they_came_with(store):
    """Stored as one instant: "10:00+08:00" is before "03:00+00:00", which the old text comparison
    got backwards; a naive time is taken as UTC."""
    shanghai = timezone(timedelta(hours=8))
    store.add_strike("g", "m", "ad", None, "early", "", datetime(2025, 3, 10, 10, 0, tzinfo=shanghai))
    store.add_strike("g", "m", "ad", None, "late", "", datetime(2025, 3, 10, 3, 0, tzinfo=timezone.utc))
    since = datetime(2025, 3, 10, 2, 30)  # naive: UTC
    assert [s["message_id"] for s in store.strikes("g", "m", since=since)] == ["late"]
    early = store.strikes("g", "m")[0]["ts"]
    assert early == datetime(2025, 3, 10, 2, 0, tzinfo=timezone.utc) and early.utcoffset() == timedelta(0)


def test_key_values_round_trip_json(store):
    store.put("mute:g", "2025-03-10T12:00:00+08:00")
    store.put("budget", {"day": 3, "names": ["小明"]})
    store.put("budget", {"day": 4})
    assert store.get("mute:g") == "2025-03-10T12:00:00+08:00" and store.get("budget") == {"day": 4}
    assert store.get("missing", 7) == 7
