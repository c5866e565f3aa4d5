"""The SQLite store: de-duplication, transactions, and message text kept only as long as configured."""
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from agent.store import Store

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)


def test_a_decided_id_is_seen_after_a_restart(tmp_path):
    store = Store(tmp_path / "s.db")
    assert not store.seen("m1")
    assert store.decided("m1", T0, "ignore") and not store.decided("m1", T0, "reply")
    store.close()
    again = Store(tmp_path / "s.db")
    assert again.seen("m1")  # redelivered after a restart
    assert again.query("SELECT decision FROM seen WHERE message_id = 'm1'")[0]["decision"] == "ignore"


def test_an_older_file_gains_the_decision_column(tmp_path):
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute("CREATE TABLE seen (message_id TEXT PRIMARY KEY, ts TEXT NOT NULL)")
    db.execute("INSERT INTO seen VALUES ('m0', '2025-01-01T00:00:00+00:00')")
    db.commit()
    db.close()
    store = Store(tmp_path / "old.db")
    assert store.seen("m0") and store.decided("m1", T0, "reply")


def test_a_failed_transaction_leaves_nothing(tmp_path):
    store = Store(tmp_path / "s.db")
    with pytest.raises(RuntimeError), store.tx() as db:
        db.execute("INSERT INTO kv (key, value) VALUES ('a', '1')")
        raise RuntimeError("crash midway")
    assert store.get("a") is None


def test_purge_drops_text_past_retention_and_keeps_the_rest():
    store = Store()
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


def test_clear_empties_every_table_for_a_sandbox():
    store = Store()
    store.put("k", 1)
    store.add_gap("g", "a", "m", "q", False, T0)
    store.clear()
    assert store.get("k") is None and store.open_gaps("g") == []
