"""Shared fixtures: the repo's own config and prompts, a built app on temporary folders.

Two tiers. `app` (the unit tier) is built fresh for each test on a deterministic hashed n-gram
embedding and an in-memory Chroma collection of its own: it tests what the bot does, not how well
the offline encoder retrieves. `demo_app` is the real thing (the offline encoder, Chroma on disk),
also fresh per test; it measures retrieval and judgement, and a test that uses it is marked `e2e`
(at collection, below). `pytest -m "not e2e"` is the quick loop.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from agent.settings import load_settings

# CI replays the same generated examples on every run (a property failure found by chance locally is
# fixed, not left to flip CI); a developer's run explores new ones
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")

# every Chroma client of the run, however made, with the settings agent.kb.chroma.quiet() gives: Chroma
# refuses a second client of its one in-memory store with other settings
os.environ["ANONYMIZED_TELEMETRY"] = "False"

# pytest-xdist's workers run with COLUMNS=80, and the CLIs' consoles are made at import: they would keep
# that width, and the tests' own (CliRunner's env) would not apply
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

REPO = Path(__file__).resolve().parents[1]
SHARED_EVAL = REPO.parent / "shared" / "eval"  # CI lays shared/ beside the clone


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def dev_set() -> Path:
    path = SHARED_EVAL / "newmedia"
    if not path.is_dir():
        pytest.skip(f"the labelled dev set is not at {path}")
    return path


@pytest.fixture
def settings(tmp_path):
    """The shipped config (demo group), with state and a copy of the knowledge under a temporary
    folder, so tests that add knowledge never touch the repository's files."""
    s = load_settings(REPO / "config")
    s.data_dir = tmp_path / "data"
    s.store.path = tmp_path / "data" / "steward.db"
    s.kb.knowledge_dir = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", s.kb.knowledge_dir)
    return s


REAL_APP_FIXTURES = {"demo_app"}


def pytest_collection_modifyitems(config, items):
    """A test on the real app (the offline encoder over the knowledge) is e2e by what it uses: marked
    here, in one place, so the quick loop cannot grow by a test forgetting to say so."""
    for item in items:
        if REAL_APP_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def unit_parts(settings):
    """build()'s parts for the unit tier: the hashed n-gram embedding and an in-memory Chroma client.
    Every in-memory client of a process shares one store, so the test gets a collection of its own,
    dropped afterwards."""
    import chromadb

    from agent.testing.embedding import HashingEmbeddingFunction

    settings.kb.collection = f"unit-{uuid.uuid4().hex[:12]}"
    client = chromadb.EphemeralClient()
    yield {"embedding_function": HashingEmbeddingFunction(), "chroma_client": client, "llm": None}
    with contextlib.suppress(Exception):  # never created, if the test failed before building
        client.delete_collection(settings.kb.collection)


@pytest.fixture
def app(settings, unit_parts):
    """A fresh app on `settings` (its own state and knowledge copy) for the unit tier: no model, the
    hashed embedding, an in-memory collection."""
    from agent.app import build

    built = build(settings, ephemeral=True, **unit_parts)
    built.sync_knowledge()
    yield built
    built.close()


@pytest.fixture
def demo_app(settings):
    """The real app on the shipped demo group (offline encoder, Chroma on disk, SQLite), fresh per test.
    After the first build of a run the encoder's vectors of the knowledge are cached in the process,
    so each further build costs a fraction of a second."""
    from agent.app import build

    built = build(settings, ephemeral=True)
    built.sync_knowledge()
    yield built
    built.close()


@pytest.fixture(scope="session")
def fed_month(tmp_path_factory):
    """`fed_month(path, shift_days=0)`: a state database at `path` holding the generated month of
    tests/test_analytics_funnel.py, fed through the real pipeline and recorder. Feeding its 750
    messages takes seconds, so each shift is fed once per run and every test gets its own copy."""
    from agent.store import Store

    fed: dict[int, Path] = {}

    def copy(path: Path, shift_days: int = 0) -> Path:
        from test_analytics_funnel import feed, group, month, pipeline_for

        if shift_days not in fed:
            template = tmp_path_factory.mktemp("month") / "state.db"
            store = Store(template)
            pipeline, route = pipeline_for(store, group())
            feed(pipeline, route, [e.__class__(**{**e.__dict__, "ts": e.ts + timedelta(days=shift_days)})
                                   for e in month()])
            store.close()
            fed[shift_days] = template
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fed[shift_days], path)
        return path

    return copy
