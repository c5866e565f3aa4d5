"""Shared fixtures: the repo's own config and prompts, a built app on temporary folders."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from agent.settings import load_settings

# CI replays the same generated examples on every run (a property failure found by chance locally is
# fixed, not left to flip CI); a developer's run explores new ones
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")

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


@pytest.fixture
def app(settings):
    """A fresh app on `settings` (its own state and knowledge copy), for tests that change state."""
    from agent.app import build

    built = build(settings, ephemeral=True)
    built.sync_knowledge()
    yield built
    built.close()


@pytest.fixture(scope="session")
def demo_app(tmp_path_factory):
    """The real app on the shipped demo group: Chroma, offline embedding, SQLite. Built once per run
    (embedding the knowledge is the slow part); tests that change state build their own."""
    from agent.app import build

    s = load_settings(REPO / "config")
    tmp = tmp_path_factory.mktemp("demo")
    s.data_dir = tmp / "data"
    s.store.path = tmp / "data" / "steward.db"
    app = build(s, ephemeral=True)
    app.sync_knowledge()
    yield app
    app.close()
