"""Where practice runs. `steward chat` and `steward sim` work on the bot's own data folder, the one
`steward run` uses: a case opened, a gap recorded or a fact added while practising is real, and
`steward cases`, `stats` and `report` show it afterwards. With --sandbox (and always for `steward demo`)
they work on a throwaway copy of the state, the Chroma index and the knowledge folder instead, removed
when the session ends.
"""
from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from agent.settings import Settings
from agent.state.copy import backup_sqlite


@contextlib.contextmanager
def practice_settings(settings: Settings, sandbox: bool, *, fresh_state: bool = False) -> Iterator[Settings]:
    """`settings` as they are, or (sandbox) pointing at a copy under a temporary folder for the
    duration. fresh_state: the copy starts with an empty state (a demo plays from a clean slate)."""
    if not sandbox:
        yield settings
        return
    with tempfile.TemporaryDirectory(prefix="steward-sandbox-") as tmp:
        yield sandboxed(settings, Path(tmp), fresh_state=fresh_state)


def sandboxed(settings: Settings, root: Path, *, fresh_state: bool = False) -> Settings:
    """A copy of `settings` whose state, index and knowledge live under `root`, filled from the real
    ones. A state kept in a database server (store.url) is not copied: the sandbox starts empty."""
    copy = settings.model_copy(deep=True)
    copy.data_dir = root / "data"
    copy.data_dir.mkdir(parents=True)
    copy.store.url = None
    copy.store.path = copy.data_dir / "steward.db"
    copy.kb.knowledge_dir = root / "knowledge"
    if settings.kb.knowledge_dir.is_dir():
        shutil.copytree(settings.kb.knowledge_dir, copy.kb.knowledge_dir)
    else:
        copy.kb.knowledge_dir.mkdir()
    if settings.kb.chroma.mode == "local" and settings.chroma_dir.is_dir():
        shutil.copytree(settings.chroma_dir, copy.chroma_dir)  # a sync then re-embeds only what differs
    else:
        copy.kb.chroma.mode = "local"  # a shared server's collection is never written by practice
    if not fresh_state and not settings.store.url and settings.db_path.is_file():
        backup_sqlite(settings.db_path, copy.store.path)  # consistent even while a running bot writes
    models = settings.data_dir / "models"
    if models.is_dir():  # the local model is read, never written: linked, not copied (a gigabyte)
        (copy.data_dir / "models").symlink_to(models.resolve(), target_is_directory=True)
    return copy
