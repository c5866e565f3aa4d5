"""The schema: the migrations build exactly the tables the code uses, on SQLite and PostgreSQL; a
SQLite file written before them is adopted with its rows; `steward db upgrade` and `steward db copy`."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from agent.state import moderation, tables
from agent.state.engine import head, make_engine, upgrade, url_of
from agent.store import Store
from pg import postgres, postgres_url, state_url  # noqa: F401  (fixtures)

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), tables.metadata)


def test_the_migrations_build_the_schema_the_code_declares(state_url):
    migrated = make_engine(url_of(state_url))
    upgrade(migrated, alembic=True)
    assert _differences(migrated) == []
    with migrated.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head()
    migrated.dispose()


def test_a_fresh_store_gets_the_same_schema_without_replaying_them(tmp_path):
    fresh = Store(tmp_path / "fresh.db")  # the fast path: create_all and the head mark
    assert _differences(fresh.engine) == []
    fresh.close()


LEGACY = """
CREATE TABLE seen (message_id TEXT PRIMARY KEY, ts TEXT NOT NULL, decision TEXT);
CREATE TABLE strikes (id INTEGER PRIMARY KEY AUTOINCREMENT, group_id TEXT NOT NULL, member_id TEXT NOT NULL,
    kind TEXT NOT NULL, article INTEGER, message_id TEXT NOT NULL, evidence TEXT NOT NULL, ts TEXT NOT NULL);
CREATE TABLE cases (id INTEGER PRIMARY KEY AUTOINCREMENT, group_id TEXT NOT NULL, member_id TEXT NOT NULL,
    kind TEXT NOT NULL, article INTEGER, suggested TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open',
    decided_by TEXT, decision TEXT, ts TEXT NOT NULL, decided_ts TEXT);
CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE analytics_counts (group_id TEXT NOT NULL, day TEXT NOT NULL, counter TEXT NOT NULL,
    value INTEGER NOT NULL, PRIMARY KEY (group_id, day, counter));
CREATE INDEX strikes_member ON strikes (group_id, member_id, ts);
INSERT INTO seen VALUES ('m1', '2025-03-10T20:00:00+08:00', 'violation');
INSERT INTO strikes VALUES (1, 'g', 'u', 'ad', 1, 'm0', '早先的', '2025-03-09T20:00:00+08:00');
INSERT INTO strikes VALUES (2, 'g', 'u', 'ad', 1, 'm1', '加我微信', '2025-03-10T20:00:00+08:00');
INSERT INTO cases VALUES (1, 'g', 'u', 'ad', 1, 'kick', 'open', NULL, NULL, '2025-03-10T20:00:00+08:00', NULL);
INSERT INTO kv VALUES ('mute:g', '"2025-03-10T21:00:00+08:00"');
INSERT INTO analytics_counts VALUES ('g', '2025-03-10', 'messages', 3);
"""


def test_a_file_from_before_the_migrations_is_adopted_with_its_rows(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(LEGACY)
    store = Store(path)
    assert _differences(store.engine) == []
    assert store.seen("m1") and store.get("mute:g") == "2025-03-10T21:00:00+08:00"
    assert [s["ts"] for s in store.strikes("g", "u")] == [datetime(2025, 3, 9, 12, tzinfo=timezone.utc),
                                                          datetime(2025, 3, 10, 12, tzinfo=timezone.utc)]
    assert moderation.evidence(store, 1) == "加我微信"  # the case found its strike once, at adoption
    assert store.rows(sa.select(tables.counts.c.day, tables.counts.c.value))[0]["value"] == 3
    assert store.add_strike("g", "u", "ad", 1, "m2", "", T0) == 3  # ids go on after the old ones
    store.close()


@pytest.fixture
def cli_config(tmp_path):
    def write(url=None):
        folder = tmp_path / "config"
        (folder / "groups" / "g").mkdir(parents=True, exist_ok=True)
        group = "id: g\ntheme: 跑步\nowners: [{id: o1}]\n"
        (folder / "groups" / "g" / "group.yaml").write_text(group, encoding="utf-8")
        store = f"store: {{path: {tmp_path / 'data' / 'steward.db'}" + (f", url: '{url}'" if url else "") + "}"
        (folder / "settings.yaml").write_text(f"data_dir: {tmp_path / 'data'}\n{store}\n", encoding="utf-8")
        return folder
    return write


def _steward():
    import typer

    from agent.state.cli import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a typer app with one sub-app needs a sibling to keep its name
    return app


@pytest.mark.e2e
def test_db_copy_moves_a_sqlite_state_to_postgresql(cli_config, postgres_url, tmp_path):
    runner, config = CliRunner(), cli_config()
    assert runner.invoke(_steward(), ["db", "upgrade", "--config", str(config)]).exit_code == 0
    source = Store(tmp_path / "data" / "steward.db")
    source.decided("m1", T0, "violation")
    source.add_strike("g", "u", "ad", 1, "m1", "加我微信", T0)
    case_id = source.open_case("g", "u", "ad", 1, "kick", T0)
    source.put("mute:g", {"until": "21:00"})
    source.close()
    copied = runner.invoke(_steward(), ["db", "copy", "--to", postgres_url, "--config", str(config)])
    assert copied.exit_code == 0, copied.output
    assert "strikes: 1" in copied.output and "cases: 1" in copied.output
    target = Store(postgres_url)
    assert target.seen("m1") and target.get("mute:g") == {"until": "21:00"}
    assert moderation.evidence(target, case_id) == "加我微信"
    assert target.open_case("g", "u", "scam", None, "kick", T0 + timedelta(days=1)) == case_id + 1  # ids go on
    target.close()
    again = runner.invoke(_steward(), ["db", "copy", "--to", postgres_url, "--config", str(config)])
    assert again.exit_code == 1 and "already has rows" in again.output  # never mixed into a live database
    on_pg = runner.invoke(_steward(), ["db", "upgrade", "--config", str(cli_config(postgres_url))])
    assert on_pg.exit_code == 0 and "schema up to date" in on_pg.output


def test_processes_opening_a_new_database_together_migrate_it_once(state_url):
    """Every process runs the migrations on open: started together on an empty database, one creates
    the schema and the others find it (PostgreSQL: an advisory lock; SQLite: the write lock)."""
    opening = ("import sys; from agent.state.engine import make_engine, upgrade, url_of; "
               "upgrade(make_engine(url_of(sys.argv[1])))")
    processes = [subprocess.Popen([sys.executable, "-c", opening, str(state_url)], stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
    failures = [p.stderr.read() for p in processes if p.wait() != 0]
    assert failures == []
    store = Store(state_url)
    assert _differences(store.engine) == []
    store.close()


def test_a_password_comes_from_the_environment_never_the_config(monkeypatch):
    from agent.state.engine import StateError

    monkeypatch.setenv("STEWARD_TEST_PG_PASSWORD", "s3cret")
    assert url_of("postgresql+psycopg://bot:${STEWARD_TEST_PG_PASSWORD}@db/steward") == \
        "postgresql+psycopg://bot:s3cret@db/steward"
    monkeypatch.delenv("STEWARD_TEST_PG_PASSWORD")
    with pytest.raises(StateError, match="STEWARD_TEST_PG_PASSWORD|not set"):
        url_of("postgresql+psycopg://bot:${STEWARD_TEST_PG_PASSWORD}@db/steward")
