"""Where the state lives: an engine from `store.url`, and the schema brought up to date on open.

SQLite (the embedded default) runs in WAL mode with a busy timeout, each write transaction taking
the write lock up front (BEGIN IMMEDIATE), so two processes on one file queue instead of failing a
transaction half way. PostgreSQL is `postgresql+psycopg://…`; its password is never written in the
config: `${VAR}` in the URL is read from the environment, and libpq's own PGPASSWORD, PGUSER and
PGHOST work as well.
"""
from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from agent.state.tables import metadata

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 30_000
MIGRATION_LOCK = 0x5374_6577  # the advisory lock key the migrations run under on PostgreSQL


class StateError(RuntimeError):
    """A state URL that cannot be used (named in the message)."""


def url_of(target: Path | str) -> str:
    """A database URL from a URL, a SQLite file path or ":memory:"."""
    text = str(target)
    if "://" in text:
        expanded = os.path.expandvars(text)
        if "${" in expanded:
            raise StateError(f"store.url: {text!r} names an environment variable that is not set")
        return expanded
    if text == ":memory:":
        return "sqlite://"
    Path(text).parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(text).resolve()}"


def make_engine(url: str) -> sa.Engine:
    if not url.startswith("sqlite"):
        try:
            return sa.create_engine(url, pool_pre_ping=True)
        except (sa.exc.ArgumentError, ImportError) as e:
            raise StateError(f"store.url: cannot use {sa.engine.make_url(url)!r}: {e}") from e
    memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
                              poolclass=StaticPool if memory else None)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi, _record):
        dbapi.isolation_level = None  # transactions are begun below, not by the driver
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"busy_timeout={BUSY_TIMEOUT_MS}", "foreign_keys=ON"):
            dbapi.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        if not conn.info.get("reading"):  # a lone SELECT reads one snapshot without a transaction
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(connection: sa.Connection | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


_upgrading = threading.Lock()


def upgrade(engine: sa.Engine, *, alembic: bool = False) -> None:
    """Bring the schema to the latest migration. A database at head is left alone; an empty one
    gets the tables and the head mark in one transaction (what the migrations build, without
    replaying them for every in-memory store a test or an eval opens); anything else (an older
    schema, a file from before the migrations) runs the migrations. `alembic`: always run them."""
    from alembic import command

    with _upgrading, engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # processes starting together: one migrates, the others wait
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        names = set(sa.inspect(conn).get_table_names())
        if not alembic and "alembic_version" in names:
            if conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head():
                return
        if not alembic and not names:
            metadata.create_all(conn)
            conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                                 "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")
            conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head()})
            return
        command.upgrade(alembic_config(conn), "head")
