"""KnowledgeBase: knowledge folders synced into a Chroma collection, searched hybrid.

A facade over three rooms: agent.kb.sync writes files into the collection, agent.kb.search keeps
the in-memory hybrid index over it, agent.kb.edit writes the entries owners add from chat. Chroma is
the only state: the index version lives in the collection's metadata, so a sync run by another
process sharing the collection (a Chroma server) is noticed here and rebuilds this one's indexes.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import Path

from chromadb.api import ClientAPI
from chromadb.api.types import EmbeddingFunction

from agent.kb.edit import append_entry
from agent.kb.retrieve import Hit
from agent.kb.search import RRF_K, SearchIndex
from agent.kb.sync import SyncReport, Syncer
from agent.kb.tokenize import add_words, vocabulary

__all__ = ["KnowledgeBase", "SyncReport"]

log = logging.getLogger(__name__)

VERSION_KEY = "index_version"  # collection metadata: a new token after every sync that changed something


class KnowledgeBase:
    """Knowledge of several scopes (a group's folder, "shared") in one Chroma collection.

    Chunks are stored with their lines/sentences ("units") as extra records: dense search scores a
    chunk by its best record. `shared` (a collection other processes write too) makes searches look
    for other processes' syncs, at most every `refresh_s` seconds (one metadata read each time)."""

    def __init__(self, client: ClientAPI, embedding_function: EmbeddingFunction, *,
                 collection: str = "knowledge", domain_words: list[str] | tuple[str, ...] = (),
                 chunk_size: int = 360, chunk_overlap: int = 40, rrf_k: int = RRF_K,
                 dense_weight: float = 1.0, bm25_weight: float = 1.5, max_file_mb: float = 2.0,
                 shared: bool = False, refresh_s: float = 2.0):
        if len(collection) < 3:
            raise ValueError(f"collection name {collection!r}: Chroma needs at least 3 characters")
        self.client, self.ef = client, embedding_function
        # the function is passed explicitly: Chroma's default one would download a model
        self.collection = client.get_or_create_collection(
            collection, embedding_function=embedding_function,
            configuration={"hnsw": {"space": "cosine"}},
        )
        # a file past this is skipped unread: embedding 30 MB would take hours and gigabytes
        self.syncer = Syncer(self.collection, embedding_function, chunk_size=chunk_size,
                             chunk_overlap=chunk_overlap, max_file_bytes=int(max_file_mb * 1024 * 1024))
        self.index = SearchIndex(self.collection, embedding_function, rrf_k=rrf_k,
                                 dense_weight=dense_weight, bm25_weight=bm25_weight)
        self.folders: dict[str, Path] = {}  # scope -> folder, remembered from sync for add_entry
        self.shared, self.refresh_s = shared, refresh_s
        self._seen = self._shared_version()  # the collection's version this process's indexes follow
        self._checked = time.monotonic()
        self._lock = threading.RLock()  # one sync at a time
        self._seen_lock = threading.Lock()  # `_seen` and the index change it brings: never held by a sync
        add_words(domain_words)

    @property
    def version(self) -> int:
        """Bumped by every change of the index seen here (caches built on the index key on it)."""
        self._follow()
        return self.index.version

    def sync(self, sources: dict[str, Path], progress: bool = False, *, background: bool = False) -> SyncReport:
        """Bring the given scopes in line with their folders (a missing folder empties its scope).
        Scopes not named in `sources` are left alone. The search indexes built so far are rebuilt
        before this returns, or with `background` on the index thread (a sync on a message's path:
        the old indexes answer meanwhile)."""
        start = time.perf_counter()
        with self._lock:
            report = self.syncer.sync(sources, progress)
            self.folders.update({scope: Path(folder) for scope, folder in sources.items()})
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            # kept as they are: the version token, unless this sync changed something (hnsw settings
            # are the collection's configuration, which metadata may not change)
            meta = {k: v for k, v in self._metadata().items() if not k.startswith("hnsw:")} | {"last_sync": stamp}
            if report.changed:
                with self._seen_lock:
                    meta[VERSION_KEY] = self._seen = uuid.uuid4().hex
            self.collection.modify(metadata=meta)
            if report.changed:
                self.index.changed(background)
        report.seconds = time.perf_counter() - start
        return report

    def add_entry(self, scope: str, file: str, text: str, *, question: str | None = None,
                  folder: Path | None = None) -> SyncReport:
        """Append an entry (an FAQ pair when `question` is given) to a curated Markdown file of the
        scope and re-index it (its search index is rebuilt in the background). The file is the
        record: the entry survives a rebuild of the index."""
        folder = Path(folder) if folder is not None else self.folders.get(scope)
        if folder is None:
            raise KeyError(f"unknown scope {scope!r}: sync it first or pass its folder")
        append_entry(folder, file, text, question=question)
        return self.sync({scope: folder}, background=True)

    def search(self, query: str, scopes: list[str], k: int = 5) -> list[Hit]:
        """Top-k chunks of the given scopes for `query`, by dense + BM25 rank fusion."""
        self._follow()
        return self.index.search(query, scopes, k)

    def words_of(self, group_id: str) -> frozenset[str]:
        """The knowledge words a group's text is cut with: the terms its scope and the shared one mark."""
        self._follow()
        return self.index.scope_set([group_id, "shared"]).words

    def vocabulary(self, group_id: str) -> AbstractContextManager[None]:
        """Cut text with the group's own knowledge words in this block (agent.kb.tokenize.vocabulary):
        wherever a group's text is tokenized outside a search."""
        return vocabulary(self.words_of(group_id))

    def close(self) -> None:
        """Stop the index's background rebuilds (the app is closing)."""
        self.index.close()

    def ready(self, timeout: float = 60) -> bool:
        """Wait until every scope set searched so far is built from the current index (tests, and
        callers that must see a change before going on); another process's sync counts at once."""
        self._follow(now=True)
        return self.index.ready(timeout)

    def indexed_files(self) -> set[tuple[str, str]]:
        """(scope, file) of every file the index holds records of."""
        return set(self.syncer.stored())

    def stats(self) -> dict:
        stored = self.syncer.stored()
        scopes: dict[str, dict[str, int]] = defaultdict(lambda: {"files": 0, "chunks": 0})
        for (scope, _), s in stored.items():
            scopes[scope]["files"] += 1
            scopes[scope]["chunks"] += s.chunks
        return {"files": len(stored), "chunks": sum(v["chunks"] for v in scopes.values()),
                "scopes": dict(scopes), "last_sync": self._metadata().get("last_sync")}

    # ---- the shared version ----------------------------------------------------------------------

    def _metadata(self) -> dict:
        """The collection's metadata as stored now (the Collection object keeps what it was opened with)."""
        fresh = self.client.get_collection(self.collection.name, embedding_function=self.ef)
        return dict(fresh.metadata or {})

    def _shared_version(self) -> str | None:
        return self._metadata().get(VERSION_KEY)

    def _follow(self, now: bool = False) -> None:
        """On a shared collection, notice another process's sync: its new version token makes this
        process's indexes stale (rebuilt in the background while the old ones answer)."""
        if not self.shared or (not now and time.monotonic() - self._checked < self.refresh_s):
            return
        self._checked = time.monotonic()
        try:
            token = self._shared_version()
        except Exception:  # the server is away: keep answering from the indexes held here
            log.warning("could not read the knowledge index version from Chroma", exc_info=True)
            return
        with self._seen_lock:
            if token != self._seen:
                self._seen = token
                self.index.changed(background=True)
