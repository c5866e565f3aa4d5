"""Copying a whole state: to another database (`steward db copy --to URL`, SQLite to PostgreSQL), or a
SQLite file to another file (a practice sandbox)."""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from agent.state.store import Store
from agent.state.tables import metadata

BATCH = 1000


class NotEmpty(RuntimeError):
    """The target already holds state: copying into it would mix two bots' histories."""


def copy_state(source: Store, target: Store) -> dict[str, int]:
    """Every row of every table, parents before children, in one target transaction; the target's
    id sequences then continue after the copied ids. Returns rows copied per table."""
    filled = [t.name for t in metadata.sorted_tables if target.rows(sa.select(sa.literal(1)).select_from(t).limit(1))]
    if filled:
        raise NotEmpty(f"{target.engine.url.render_as_string()} already has rows in {', '.join(filled)}")
    copied: dict[str, int] = {}
    with target.transaction() as out:
        for table in metadata.sorted_tables:
            rows = [dict(r) for r in source.rows(sa.select(table))]
            for start in range(0, len(rows), BATCH):
                out.execute(table.insert(), rows[start:start + BATCH])
            copied[table.name] = len(rows)
            if target.dialect == "postgresql" and "id" in table.c and rows:
                out.execute(sa.select(sa.func.setval(sa.func.pg_get_serial_sequence(table.name, "id"),
                                                     sa.select(sa.func.max(table.c.id)).scalar_subquery())))
    return copied


def backup_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup of a state file: a consistent copy even while a running bot writes to it."""
    with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
