"""The state's one handle: an engine, its transactions, the decision's held writes, key/values.

A message id is marked seen in the transaction that records its decision, so a crash while deciding
leaves the redelivery to be decided; the strikes, gaps, warnings and mutes the decision records are
held on its thread (`deciding`) and land in that same transaction (`decided`), so a crash leaves neither a
strike for a message that was not marked seen nor a seen message without its strike. The seen row's
primary key decides between two deliveries of one message (two processes, two accounts in one room):
the second insert is skipped and its decision dropped, whichever process it ran in.

The features' tables are reached through their repositories (agent.state.gaps, .moderation,
.feedback, .schedule, .analytics); the methods here that the pipeline and routes call delegate to them.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from agent.state import gaps, moderation
from agent.state import tables as t
from agent.state.engine import make_engine, upgrade, url_of


class Store:
    """Thread-safe handle on the bot's database: a SQLite file or `:memory:`, or a database URL."""

    def __init__(self, target: Path | str = ":memory:"):
        self.url = url_of(target)
        self.engine = make_engine(self.url)
        self.dialect = self.engine.dialect.name
        upgrade(self.engine)
        # SQLite: one connection, as one writer at a time is all SQLite allows; this process's threads
        # take turns on it. PostgreSQL: a pooled connection per transaction.
        self._lock = threading.RLock() if self.dialect == "sqlite" else None
        self._conn = self.engine.connect() if self.dialect == "sqlite" else None
        self._prepared: dict = {}
        # .writes: this thread's writes waiting for `decided` (None: not deciding); .undo: what to
        # remove if the decision is dropped
        self._held = threading.local()

    # ---- for the repositories of agent.state ----
    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """One transaction: all of it lands or none of it does."""
        if self._conn is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._lock, self._conn.begin():
            yield self._conn

    def rows(self, statement, params: dict | None = None) -> list[sa.RowMapping]:
        if self._conn is None:
            with self.engine.connect() as conn:
                return list(conn.execute(statement, params).mappings())
        with self._lock:
            conn = self._conn
            if conn.in_transaction():  # read inside this thread's own transaction
                return list(conn.execute(statement, params).mappings())
            conn.info["reading"] = True  # one statement needs no BEGIN (agent.state.engine)
            try:
                return list(conn.execute(statement, params).mappings())
            finally:
                conn.info["reading"] = False
                conn.rollback()

    def inserts(self, table: sa.Table) -> sa.Insert:
        """The table's plain INSERT, made once (its values come as parameters)."""
        statement = self._prepared.get(table)
        if statement is None:
            statement = self._prepared[table] = table.insert()
        return statement

    def prepared(self, build: Callable[[Store], sa.Executable]) -> sa.Executable:
        """`build(self)` made once per store and reused with bind parameters: building a statement
        and its cache key costs more than running it, on the path of every decision."""
        statement = self._prepared.get(build)
        if statement is None:
            statement = self._prepared[build] = build(self)
        return statement

    def insert(self, table: sa.Table):
        """An INSERT that can skip or update on a conflict (ON CONFLICT, in either dialect)."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def write(self, table: sa.Table, values: dict) -> int:
        """Insert now and return the row id, or hold the insert for `decided` (0: no id yet)."""
        held = getattr(self._held, "writes", None)
        if held is not None:
            held.append((table, values))
            return 0
        with self.transaction() as conn:
            key = conn.execute(self.inserts(table), values).inserted_primary_key
            return int(key[0]) if key and isinstance(key[0], int) else 0

    def held(self, table: sa.Table) -> list[dict]:
        """The values of this thread's held inserts into `table` (so a later write can link to them)."""
        return [values for tab, values in getattr(self._held, "writes", None) or [] if tab is table]

    def if_dropped(self, statement) -> None:
        """While deciding: run `statement` should the decision be dropped (a row that had to be
        written at once, such as a case whose number the case file shows)."""
        if getattr(self._held, "writes", None) is not None:
            self._held.undo.append(statement)

    # ---- de-duplication ----
    def seen(self, message_id: str) -> bool:
        """Whether this message id was decided before (a redelivery, or another account's copy)."""
        return bool(self.rows(self.prepared(_seen), {"message_id": message_id}))

    @contextmanager
    def deciding(self):
        """While a message is decided on this thread, the writes it records are held, and written by
        `decided` in the transaction that marks it seen (dropped if it never is)."""
        self._held.writes, self._held.undo = [], []
        try:
            yield
        finally:
            self._held.writes = self._held.undo = None

    def decided(self, message_id: str, ts: datetime, decision: str) -> bool:
        """Mark a message seen with its decision and the writes held for it, in one transaction;
        False if another delivery of it was decided first (its actions must then not be taken twice,
        nor its strikes written twice)."""
        held, undo = getattr(self._held, "writes", None) or [], getattr(self._held, "undo", None) or []
        if held or undo:
            self._held.writes, self._held.undo = [], []
        mark = {"message_id": message_id, "ts": ts, "decision": decision}
        with self.transaction() as conn:
            if conn.execute(self.prepared(_mark), mark).scalar() is None:  # the key was there: another delivery won
                for statement in undo:
                    conn.execute(statement)
                return False
            for table, values in held:  # an insert into a table, or a statement and its parameters
                conn.execute(self.inserts(table) if isinstance(table, sa.Table) else table, values)
            return True

    # ---- small key/value state (mute windows, cooldowns, budgets) ----
    def get(self, key: str, default=None):
        rows = self.rows(self.prepared(_get), {"key": key})
        return json.loads(rows[0]["value"]) if rows else default

    def put(self, key: str, value, *, with_decision: bool = False) -> None:
        """Set a key; `with_decision`: while a message is decided, in the transaction that records it
        (a member's mute lands with the strike that earned it, or not at all)."""
        params = {"key": key, "value": json.dumps(value, ensure_ascii=False)}
        if with_decision and getattr(self._held, "writes", None) is not None:
            self._held.writes.append((self.prepared(_put), params))
            return
        with self.transaction() as conn:
            conn.execute(self.prepared(_put), params)

    def swap(self, key: str, expected, value) -> bool:
        """Set a key to `value` only if it still holds `expected` (None: only if it is absent); True
        if this call set it. Of several processes doing the same once-only work (a digest, a note),
        the one whose swap lands sends it."""
        text = json.dumps(value, ensure_ascii=False)
        if expected is None:
            statement = self.insert(t.kv).values(key=key, value=text).on_conflict_do_nothing().returning(t.kv.c.key)
        else:
            statement = (t.kv.update().where(t.kv.c.key == key, t.kv.c.value == json.dumps(expected, ensure_ascii=False))
                         .values(value=text).returning(t.kv.c.key))
        with self.transaction() as conn:
            return conn.execute(statement).scalar() is not None

    # ---- what the pipeline and routes call (the repositories do the work) ----
    def add_gap(self, group_id: str, asker_id: str, message_id: str, question: str, addressed: bool,
                ts: datetime) -> int:
        return gaps.add(self, group_id, asker_id, message_id, question, addressed, ts)

    def open_gaps(self, group_id: str) -> list[sa.RowMapping]:
        return gaps.open_rows(self, group_id)

    def add_strike(self, group_id: str, member_id: str, kind: str, article: int | None, message_id: str,
                   evidence: str, ts: datetime) -> int:
        return moderation.add_strike(self, group_id, member_id, kind, article, message_id, evidence, ts)

    def strikes(self, group_id: str, member_id: str, since: datetime | None = None) -> list[sa.RowMapping]:
        return moderation.strikes(self, group_id, member_id, since)

    def open_case(self, group_id: str, member_id: str, kind: str, article: int | None, suggested: str,
                  ts: datetime) -> int:
        return moderation.open_case(self, group_id, member_id, kind, article, suggested, ts)

    def cases(self, group_id: str | None = None, status: str | None = None) -> list[sa.RowMapping]:
        return moderation.cases(self, group_id, status)

    # ---- housekeeping ----
    def purge(self, now: datetime, retention_days: int) -> None:
        """Drop message text past retention: questions in the gap inbox, strikes' evidence, and the
        seen ids (a redelivery that late is not a reconnect). Counts and case decisions stay."""
        cutoff = now - timedelta(days=retention_days)
        with self.transaction() as conn:
            conn.execute(t.seen.delete().where(t.seen.c.ts < cutoff))
            conn.execute(t.strikes.update().where(t.strikes.c.ts < cutoff).values(evidence=""))
            conn.execute(t.gaps.delete().where(t.gaps.c.ts < cutoff))

    def clear(self) -> None:
        """Empty every table (an eval sandbox between commands); holders of this Store stay valid."""
        with self.transaction() as conn:
            for table in reversed(t.metadata.sorted_tables):
                conn.execute(table.delete())

    def close(self) -> None:
        if self._conn is not None:
            with self._lock:
                self._conn.close()
        self.engine.dispose()


# ---- the statements every decision runs, built once per store (Store.prepared) ----
def _seen(store: Store):
    return sa.select(t.seen.c.message_id).where(t.seen.c.message_id == sa.bindparam("message_id"))


def _mark(store: Store):
    return store.insert(t.seen).on_conflict_do_nothing().returning(t.seen.c.message_id)


def _get(store: Store):
    return sa.select(t.kv.c.value).where(t.kv.c.key == sa.bindparam("key"))


def _put(store: Store):
    statement = store.insert(t.kv).values(key=sa.bindparam("key"), value=sa.bindparam("value"))
    return statement.on_conflict_do_update(index_elements=["key"], set_={"value": statement.excluded.value})
