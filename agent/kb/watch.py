"""Live knowledge: operators' edits under knowledge/ are re-indexed while the bot runs.

watchfiles reports changed paths (debounced, so an editor's save-rename-write counts once); a change
triggers the ordinary incremental sync, which re-embeds only files whose content hash moved.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import watchfiles

from agent.kb.store import KnowledgeBase
from agent.kb.sync import SyncReport

log = logging.getLogger(__name__)


def _relevant(change: watchfiles.Change, path: str) -> bool:
    return path.endswith((".md", ".txt")) or change == watchfiles.Change.deleted


async def watch_knowledge(kb: KnowledgeBase, root: Path, sources: Callable[[], dict[str, Path]],
                          stop: asyncio.Event, on_sync: Callable[[SyncReport], None] | None = None) -> None:
    """Sync `sources()` whenever a knowledge file under `root` changes, until `stop` is set."""
    root.mkdir(parents=True, exist_ok=True)
    async for _ in watchfiles.awatch(root, watch_filter=_relevant, stop_event=stop, debounce=800):
        report = await asyncio.to_thread(kb.sync, sources())
        if report.changed:
            log.info("knowledge changed on disk: %s", report)
            if on_sync is not None:
                on_sync(report)


def watch_forever(kb: KnowledgeBase, root: Path, sources: Callable[[], dict[str, Path]],
                  on_sync: Callable[[SyncReport], None]) -> None:
    """The blocking form for `steward kb watch` (Ctrl-C stops it)."""
    root.mkdir(parents=True, exist_ok=True)
    for _ in watchfiles.watch(root, watch_filter=_relevant, debounce=800):
        on_sync(kb.sync(sources()))
