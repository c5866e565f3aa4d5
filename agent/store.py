"""SQLite state: seen message ids, knowledge gaps, strikes, cases and small key/value state.

Features with tables of their own (schedule drafts, analytics counts) create them through tx().

One file in WAL mode, every write in a transaction, so a restart resumes where it stopped and two
deliveries of the same message id are handled once: an id is marked seen in the transaction that
records its decision, so a crash while deciding leaves the redelivery to be decided; the strikes and
gaps the decision records land in that same transaction (`deciding`), so a crash leaves neither a
strike for a message that was not marked seen nor a seen message without its strike. Message text is
kept only where it is needed (gaps, case evidence) and purged after the configured retention.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    message_id TEXT PRIMARY KEY,
    ts TEXT NOT NULL,
    decision TEXT
);
CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id TEXT NOT NULL,
    asker_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    question TEXT NOT NULL,
    addressed INTEGER NOT NULL DEFAULT 0,
    ts TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    answer TEXT
);
CREATE TABLE IF NOT EXISTS strikes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    article INTEGER,
    message_id TEXT NOT NULL,
    evidence TEXT NOT NULL,
    ts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    article INTEGER,
    suggested TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    decided_by TEXT,
    decision TEXT,
    ts TEXT NOT NULL,
    decided_ts TEXT
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS strikes_member ON strikes (group_id, member_id, ts);
CREATE INDEX IF NOT EXISTS gaps_group ON gaps (group_id, status);
"""


def iso(ts: datetime) -> str:
    """How times are stored: ISO 8601 with an offset (naive times are taken as UTC)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.isoformat()


class Store:
    """Thread-safe facade over one SQLite connection (`:memory:` for tests and eval runs)."""

    def __init__(self, path: Path | str = ":memory:"):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._held = threading.local()  # .writes: this thread's writes waiting for `decided`, or None
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        if "decision" not in {r["name"] for r in self._db.execute("PRAGMA table_info(seen)")}:
            self._db.execute("ALTER TABLE seen ADD COLUMN decision TEXT")  # a file from before it

    @contextmanager
    def tx(self):
        """One transaction: all of it lands or none of it does."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def clear(self) -> None:
        """Empty every table (an eval sandbox between commands); holders of this Store stay valid."""
        with self.tx() as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                "AND name NOT LIKE 'sqlite_%'")]
            for table in tables:
                db.execute(f'DELETE FROM "{table}"')

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- de-duplication ----
    def seen(self, message_id: str) -> bool:
        """Whether this message id was decided before (a redelivery after a reconnect or a restart)."""
        return bool(self.query("SELECT 1 FROM seen WHERE message_id = ?", (message_id,)))

    @contextmanager
    def deciding(self):
        """While a message is decided on this thread, the strikes and gaps it records are held, and
        written by `decided` in the transaction that marks it seen (dropped if it never is)."""
        self._held.writes = []
        try:
            yield
        finally:
            self._held.writes = None

    def _write(self, sql: str, params: tuple) -> int:
        """Insert now and return the row id, or hold the insert for `decided` (0: no id yet)."""
        held = getattr(self._held, "writes", None)
        if held is not None:
            held.append((sql, params))
            return 0
        with self.tx() as db:
            return int(db.execute(sql, params).lastrowid)

    def decided(self, message_id: str, ts: datetime, decision: str) -> bool:
        """Mark a message seen together with its decision and the writes held for it, in one
        transaction; False if another delivery of it was decided first (its actions must then not be
        taken twice, nor its strikes written twice)."""
        held = getattr(self._held, "writes", None) or []
        if held:
            self._held.writes = []
        with self.tx() as db:
            cur = db.execute("INSERT OR IGNORE INTO seen (message_id, ts, decision) VALUES (?, ?, ?)",
                             (message_id, iso(ts), decision))
            if cur.rowcount != 1:
                return False
            for sql, params in held:
                db.execute(sql, params)
            return True

    # ---- knowledge gaps ----
    def add_gap(self, group_id: str, asker_id: str, message_id: str, question: str, addressed: bool, ts: datetime) -> int:
        return self._write(
            "INSERT INTO gaps (group_id, asker_id, message_id, question, addressed, ts) VALUES (?, ?, ?, ?, ?, ?)",
            (group_id, asker_id, message_id, question, int(addressed), iso(ts)))

    def open_gaps(self, group_id: str) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM gaps WHERE group_id = ? AND status = 'open' ORDER BY id", (group_id,))

    # ---- strikes and cases ----
    def add_strike(self, group_id: str, member_id: str, kind: str, article: int | None,
                   message_id: str, evidence: str, ts: datetime) -> int:
        return self._write(
            "INSERT INTO strikes (group_id, member_id, kind, article, message_id, evidence, ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (group_id, member_id, kind, article, message_id, evidence, iso(ts)))

    def strikes(self, group_id: str, member_id: str, since: datetime | None = None) -> list[sqlite3.Row]:
        return self.query(
            "SELECT * FROM strikes WHERE group_id = ? AND member_id = ? AND ts >= ? ORDER BY id",
            (group_id, member_id, iso(since) if since else ""),
        )

    def open_case(self, group_id: str, member_id: str, kind: str, article: int | None,
                  suggested: str, ts: datetime) -> int:
        with self.tx() as db:
            cur = db.execute(
                "INSERT INTO cases (group_id, member_id, kind, article, suggested, ts) VALUES (?, ?, ?, ?, ?, ?)",
                (group_id, member_id, kind, article, suggested, iso(ts)),
            )
            return int(cur.lastrowid)

    def cases(self, group_id: str | None = None, status: str | None = None) -> list[sqlite3.Row]:
        sql, params = "SELECT * FROM cases WHERE 1=1", []
        if group_id:
            sql += " AND group_id = ?"
            params.append(group_id)
        if status:
            sql += " AND status = ?"
            params.append(status)
        return self.query(sql + " ORDER BY id", tuple(params))

    # ---- small key/value state (mute windows, cooldowns) ----
    def get(self, key: str, default=None):
        rows = self.query("SELECT value FROM kv WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else default

    def put(self, key: str, value) -> None:
        with self.tx() as db:
            db.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       (key, json.dumps(value, ensure_ascii=False)))

    # ---- retention ----
    def purge(self, now: datetime, retention_days: int) -> None:
        """Drop message text past retention: questions in the gap inbox, strikes' evidence, and the
        seen ids (a redelivery that late is not a reconnect). Counts and case decisions stay."""
        cutoff = iso(now - timedelta(days=retention_days))
        with self.tx() as db:
            db.execute("DELETE FROM seen WHERE ts < ?", (cutoff,))
            db.execute("UPDATE strikes SET evidence = '' WHERE ts < ?", (cutoff,))
            db.execute("DELETE FROM gaps WHERE ts < ?", (cutoff,))
