"""KnowledgeBase: knowledge folders synced into a Chroma collection, searched hybrid.

Chroma is the only state. Every record carries its file's content hash, the chunker signature and the
file's record count, so a sync can tell, from the collection alone, which files are complete and
current: unchanged files cost a hash and nothing else, and a sync that crashed halfway (some records
written, stale ones not yet deleted) shows up as incomplete and is redone by the next one.
The in-memory caches follow this instance's own syncs; a sync run by another process is seen after
this one syncs (the bot syncs at start and after kb_add).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.types import EmbeddingFunction

from agent.kb.edit import append_entry
from agent.kb.ingest import (SEP, Chunk, NotText, chunk_text, chunker_signature, decode, domain_terms, file_hash,
                             knowledge_files)
from agent.kb.retrieve import Hit, LexicalIndex, clean_query, document_terms, fuse, query_tokens
from agent.kb.tokenize import add_words

log = logging.getLogger(__name__)

BATCH = 128  # records per embedding call / upsert
DENSE_CANDIDATES = 400  # records (chunks and units) a dense query returns
IN_MEMORY_RECORDS = 20_000  # up to this many records (40 MB of vectors) dense search runs in memory
RRF_K = 10
UNIT_MARK = ":"  # unit record id = chunk id + mark + n, so a dense hit maps back without metadata
# a background rebuild waits this long: the messages right after a change do not share the CPU with
# it, and a burst of changes (several /kb add) is mostly rebuilt once
SETTLE_S = 0.5


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)  # "scope/file"
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "scope/file: why": not text, or too large
    unchanged: int = 0
    chunks: int = 0  # chunks embedded and written
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def __str__(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
                f"{len(self.skipped)} skipped, {self.unchanged} unchanged; {self.chunks} chunks embedded "
                f"in {self.seconds:.2f}s")


@dataclass
class _Stored:
    """What the collection holds for one file: its records (chunks and their units)."""

    ids: set[str] = field(default_factory=set)
    chunks: int = 0
    hashes: set[str] = field(default_factory=set)
    chunkers: set[str] = field(default_factory=set)
    counts: set[int] = field(default_factory=set)

    def current(self, content_hash: str, chunker: str) -> bool:
        return (self.hashes == {content_hash} and self.chunkers == {chunker}
                and self.counts == {len(self.ids)})


@dataclass
class _ScopeSet:
    """In-memory view of the chunks of some scopes: what BM25, coverage and hit building need."""

    ids: list[str]
    metas: list[dict]
    texts: list[str]
    lexical: LexicalIndex
    position: dict[str, int]
    records: int  # chunks and units, the candidates of a dense query
    built_at: tuple[int, int]  # (index version, jieba words epoch) it was built from
    # every record's vector and its chunk's position, when the index is small enough to hold them:
    # an exact dot product then replaces a Chroma query (0.1 ms against 9 ms a question here)
    vectors: np.ndarray | None = None
    owners: np.ndarray | None = None


@dataclass
class _Parsed:
    """What indexing read from one chunk, kept between rebuilds: after a /kb add only the new chunks
    are tokenized (all of them again once jieba has learnt new words: a new `epoch`)."""

    scope: str
    headed: str  # heading, question and text: what BM25 indexes
    marked: set[str]  # domain terms the chunk marks (headings, bold, quotes)
    epoch: int = -1  # the jieba dictionary `terms` were cut with
    terms: list[str] = field(default_factory=list)


def _records(chunks: list[Chunk], chunker: str) -> list[tuple[str, str, str, dict]]:
    """(id, text to embed, document, metadata) for each chunk and each of its units. Every record
    names its file, hash and the file's record count, so completeness is checkable per file."""
    out = []
    for c in chunks:
        meta = c.metadata(chunker)
        out.append((c.id, c.embed_text, c.text, {**meta, "kind": "chunk", "chunk": c.id}))
        base = {"scope": c.scope, "file": c.file, "content_hash": c.content_hash, "chunker": chunker,
                "kind": "unit", "chunk": c.id}
        out.extend((f"{c.id}{UNIT_MARK}{j}", unit, unit, base) for j, unit in enumerate(c.units))
    return [(rid, emb, doc, {**meta, "count": len(out)}) for rid, emb, doc, meta in out]


class KnowledgeBase:
    """Knowledge of several scopes (a group's folder, "shared") in one Chroma collection.

    Chunks are stored with their lines/sentences ("units") as extra records: dense search scores a
    chunk by its best record. BM25 and the chunk texts of each scope set are cached in memory and
    rebuilt after a sync that changed something, by the sync or (`add_entry`, a message's path) on a
    background thread; either way the old set answers until its successor replaces it, so no message
    waits for a rebuild (only a scope set never built before is built on the caller's thread)."""

    def __init__(self, client: ClientAPI, embedding_function: EmbeddingFunction, *,
                 collection: str = "knowledge", domain_words: list[str] | tuple[str, ...] = (),
                 chunk_size: int = 360, chunk_overlap: int = 40, rrf_k: int = RRF_K,
                 dense_weight: float = 1.0, bm25_weight: float = 1.5, max_file_mb: float = 2.0):
        if len(collection) < 3:
            raise ValueError(f"collection name {collection!r}: Chroma needs at least 3 characters")
        self.ef = embedding_function
        # the function is passed explicitly: Chroma's default one would download a model
        self.collection = client.get_or_create_collection(
            collection, embedding_function=embedding_function,
            configuration={"hnsw": {"space": "cosine"}},
        )
        self.chunk_size, self.chunk_overlap = chunk_size, chunk_overlap
        self.chunker = chunker_signature(chunk_size, chunk_overlap)
        self.rrf_k, self.dense_weight, self.bm25_weight = rrf_k, dense_weight, bm25_weight
        # a file past this is skipped unread: embedding 30 MB would take hours and gigabytes
        self.max_file_bytes = int(max_file_mb * 1024 * 1024)
        self.folders: dict[str, Path] = {}  # scope -> folder, remembered from sync for add_entry
        self._cache: dict[tuple[str, ...], _ScopeSet] = {}
        self.version = 0  # bumped by every sync that changed something: caches built on the index key on it
        self._words = 0  # bumped when jieba learns words: every scope set's tokens may have changed
        self._lock = threading.RLock()  # one sync at a time
        self._index_lock = threading.Lock()  # the scope sets and their rebuilds: held briefly, never by a sync
        self._rebuilds: dict[tuple[str, ...], Future] = {}
        self._parsed: dict[str, _Parsed] = {}  # by chunk id
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-index")
        add_words(domain_words)

    # ---- sync ------------------------------------------------------------------------------------

    def _stored(self) -> dict[tuple[str, str], _Stored]:
        got = self.collection.get(include=["metadatas"])
        stored: dict[tuple[str, str], _Stored] = defaultdict(_Stored)
        for rid, meta in zip(got["ids"], got["metadatas"]):
            s = stored[(meta["scope"], meta["file"])]
            s.ids.add(rid)
            s.chunks += meta.get("kind") == "chunk"
            s.hashes.add(meta.get("content_hash", ""))
            s.chunkers.add(meta.get("chunker", ""))
            s.counts.add(int(meta.get("count", -1)))
        return stored

    def sync(self, sources: dict[str, Path], progress: bool = False, *, background: bool = False) -> SyncReport:
        """Bring the given scopes in line with their folders (a missing folder empties its scope).
        Scopes not named in `sources` are left alone. The search indexes built so far are rebuilt
        before this returns, or with `background` on the index thread (a sync on a message's path:
        the old indexes answer meanwhile)."""
        start = time.perf_counter()
        report = SyncReport()
        with self._lock:
            stored = self._stored()
            work = [(scope, rel, path) for scope, folder in sources.items()
                    for rel, path in knowledge_files(Path(folder)).items()]
            pending: list[tuple[tuple, set[str]]] = []  # record, ids it replaces
            for scope, rel, path in self._progress(work, progress):
                old = stored.pop((scope, rel), None)
                size = path.stat().st_size
                if size > self.max_file_bytes:
                    self._skip(report, stored, scope, rel, path, old,
                               f"{size / 2**20:.1f} MB is over kb.max_file_mb ({self.max_file_bytes / 2**20:g} MB); "
                               "split it or raise the limit")
                    continue
                data = path.read_bytes()
                digest = file_hash(data)
                if old is not None and old.current(digest, self.chunker):
                    report.unchanged += 1
                    continue
                try:
                    text = decode(data)
                except NotText as exc:
                    self._skip(report, stored, scope, rel, path, old, str(exc))
                    continue
                chunks = chunk_text(scope, rel, text, self.chunk_size, self.chunk_overlap, digest)
                records = _records(chunks, self.chunker)
                stale = (old.ids if old else set()) - {r[0] for r in records}
                if not records:  # an empty file has nothing to mark it done: just drop its old chunks
                    if old:
                        self.collection.delete(ids=sorted(stale))
                        report.updated.append(f"{scope}/{rel}")
                    continue
                (report.updated if old else report.added).append(f"{scope}/{rel}")
                report.chunks += len(chunks)
                # the stale ids ride on the file's last record: deleted only once all new ones are in
                pending.extend((r, stale if r is records[-1] else set()) for r in records)
                if len(pending) >= BATCH:
                    self._write(pending)
                    pending = []
            self._write(pending)
            for (scope, rel), old in stored.items():
                if scope in sources:
                    self.collection.delete(ids=sorted(old.ids))
                    report.removed.append(f"{scope}/{rel}")
            self.folders.update({scope: Path(folder) for scope, folder in sources.items()})
            if report.changed:
                with self._index_lock:
                    self.version += 1
                    stale = list(self._cache)
                    if background:
                        for key in stale:
                            self._refresh(key)
                if not background:
                    for key in stale:
                        self._build(key)
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            self.collection.modify(metadata={"last_sync": stamp})
        report.seconds = time.perf_counter() - start
        return report

    @staticmethod
    def _skip(report: SyncReport, stored: dict, scope: str, rel: str, path: Path, old: _Stored | None,
              why: str) -> None:
        """A file sync will not index: named in the report and the log; its old chunks go, as a
        removed file's do."""
        if old is not None:
            stored[(scope, rel)] = old
        report.skipped.append(f"{scope}/{rel}: {why}")
        log.warning("knowledge file %s skipped: %s", path, why)

    def _write(self, pending: list[tuple[tuple, set[str]]]) -> None:
        """Embed and upsert new records first (in slices of BATCH), then delete what they replace:
        a crash in between leaves a file marked incomplete (mixed hashes or a short count), never a
        file silently missing chunks."""
        for start in range(0, len(pending), BATCH):
            records = [r for r, _ in pending[start:start + BATCH]]
            self.collection.upsert(
                ids=[r[0] for r in records],
                embeddings=np.asarray(self.ef([r[1] for r in records]), dtype=np.float32),
                documents=[r[2] for r in records],
                metadatas=[r[3] for r in records],
            )
        stale = sorted(set().union(*(s for _, s in pending)))
        if stale:
            self.collection.delete(ids=stale)

    @staticmethod
    def _progress(work: list, show: bool):
        if not show or not work:
            return work
        from rich.progress import track

        return track(work, description="Syncing knowledge", transient=True)

    def add_entry(self, scope: str, file: str, text: str, *, question: str | None = None,
                  folder: Path | None = None) -> SyncReport:
        """Append an entry (an FAQ pair when `question` is given) to a curated Markdown file of the
        scope and re-index it (its search index is rebuilt in the background). The file is the
        record (agent.kb.edit writes it): the entry survives a rebuild of the index."""
        folder = Path(folder) if folder is not None else self.folders.get(scope)
        if folder is None:
            raise KeyError(f"unknown scope {scope!r}: sync it first or pass its folder")
        append_entry(folder, file, text, question=question)
        return self.sync({scope: folder}, background=True)

    # ---- search ----------------------------------------------------------------------------------

    def _scope_set(self, scopes: list[str]) -> _ScopeSet:
        """The scope set to search now: the cached one, even if a sync made it stale (its successor is
        then built in the background); built here only the first time."""
        key = tuple(sorted(set(scopes)))
        with self._index_lock:
            cached = self._cache.get(key)
            if cached is not None:
                if cached.built_at != self._current():
                    self._refresh(key)
                return cached
        return self._build(key)

    def _current(self) -> tuple[int, int]:
        return self.version, self._words

    def _refresh(self, key: tuple[str, ...]) -> None:
        """Queue one background rebuild of a scope set (callers hold the index lock)."""
        running = self._rebuilds.get(key)
        if running is None or running.done():
            self._rebuilds[key] = self._worker.submit(self._rebuild, key)

    def _rebuild(self, key: tuple[str, ...]) -> None:
        time.sleep(SETTLE_S)
        try:
            self._build(key)
        except Exception:  # the old set keeps answering; the next search after a change retries
            log.exception("rebuilding the search index of %s failed", "+".join(key))

    def _build(self, key: tuple[str, ...]) -> _ScopeSet:
        """Read the scopes' chunks and index them, then swap the result in, unless a newer one is there."""
        with self._index_lock:
            built_at = self._current()  # read first: a sync during the build leaves the set stale, not wrong
        held = self.collection.count() <= IN_MEMORY_RECORDS
        got = self.collection.get(where=_scope_filter(key),
                                  include=["documents", "metadatas", *(["embeddings"] if held else [])])
        rows = [(i, m, t) for i, m, t in zip(got["ids"], got["metadatas"], got["documents"])
                if m.get("kind") == "chunk"]
        ids, metas, texts = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
        position = {c: i for i, c in enumerate(ids)}
        vectors = owners = None
        if held and len(got["ids"]):
            vectors = np.asarray(got["embeddings"], dtype=np.float32)
            owners = np.array([position.get(rid.split(UNIT_MARK)[0], -1) for rid in got["ids"]], dtype=np.int64)
        headed = [f"{m.get('heading', '')}\n{m.get('question', '')}\n{t}" for m, t in zip(metas, texts)]
        parsed = []
        for i, m, t, h in zip(ids, metas, texts, headed):
            known = self._parsed.get(i)
            if known is None or known.headed != h:
                known = self._parsed[i] = _Parsed(m["scope"], h, domain_terms(t, m.get("heading", "").split(SEP)))
            parsed.append(known)
        # terms the knowledge marks (headings, bold, quotes) join jieba's dictionary before indexing
        if add_words(set().union(*(p.marked for p in parsed))):
            with self._index_lock:  # every scope set was cut with the smaller dictionary
                self._words += 1
                built_at = (built_at[0], self._words)
        for p in parsed:
            if p.epoch != built_at[1]:
                p.terms = document_terms(p.headed)
                p.epoch = built_at[1]
        terms = [p.terms for p in parsed]
        kept = set(ids)
        for gone in [i for i, p in self._parsed.items() if p.scope in key and i not in kept]:
            self._parsed.pop(gone, None)
        built = _ScopeSet(ids, metas, texts, LexicalIndex(headed, terms), position, records=len(got["ids"]),
                          built_at=built_at, vectors=vectors, owners=owners)
        with self._index_lock:
            cached = self._cache.get(key)
            if cached is None or cached.built_at <= built_at:
                self._cache[key] = built
            return self._cache[key]

    def ready(self, timeout: float = 60) -> bool:
        """Wait until every scope set searched so far is built from the current index (tests, and
        callers that must see a change before going on)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._index_lock:
                stale = [k for k, v in self._cache.items() if v.built_at != self._current()]
                for key in stale:
                    self._refresh(key)
                running = [f for f in self._rebuilds.values() if not f.done()]
            if not stale and not running:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            wait(running, timeout=left)

    def search(self, query: str, scopes: list[str], k: int = 5) -> list[Hit]:
        """Top-k chunks of the given scopes for `query`, by dense + BM25 rank fusion."""
        view = self._scope_set(scopes)
        if not view.ids or not query.strip():
            return []
        qvec = np.asarray(self.ef([clean_query(query) or query]), dtype=np.float32)
        dense = self._dense(view, qvec, scopes)  # chunk position -> best similarity of its records
        qtokens = query_tokens(query)
        bm25 = view.lexical.scores(qtokens)
        bm25_order = [int(i) for i in np.argsort(-bm25, kind="stable") if bm25[i] > 0]
        fused = fuse([(list(dense), self.dense_weight), (bm25_order, self.bm25_weight)], self.rrf_k)
        top = sorted(fused, key=fused.get, reverse=True)[:k]
        for i in top:  # beyond the dense candidates (large scopes only): score the chunk record
            if i not in dense:  # (an old scope set may name a chunk a sync has just removed)
                vecs = self.collection.get(ids=[view.ids[i]], include=["embeddings"])["embeddings"]
                dense[i] = max(0.0, float(np.dot(qvec[0], vecs[0]))) if len(vecs) else 0.0
        return [self._hit(view, i, dense[i], float(bm25[i]), fused[i], qtokens) for i in top]

    def _dense(self, view: _ScopeSet, qvec: np.ndarray, scopes: list[str]) -> dict[int, float]:
        """Chunk position -> cosine similarity of its best record, over the best DENSE_CANDIDATES
        records: exact in memory when the scope set holds its vectors, else Chroma's HNSW query."""
        dense: dict[int, float] = {}
        if view.vectors is not None:
            sims = view.vectors @ qvec[0]
            best = np.argsort(-sims, kind="stable")[:DENSE_CANDIDATES]
            for r in best:
                i = int(view.owners[r])
                if i >= 0 and i not in dense:
                    dense[i] = max(0.0, float(sims[r]))
            return dense
        got = self.collection.query(query_embeddings=qvec, n_results=min(view.records, DENSE_CANDIDATES),
                                    where=_scope_filter(tuple(sorted(set(scopes)))), include=["distances"])
        for rid, dist in zip(got["ids"][0], got["distances"][0]):
            i = view.position.get(rid.split(UNIT_MARK)[0])
            if i is not None and i not in dense:  # results come best first
                dense[i] = max(0.0, 1.0 - dist)
        return dense

    @staticmethod
    def _hit(view: _ScopeSet, i: int, dense: float, bm25: float, rrf: float, qtokens: list[str]) -> Hit:
        meta = view.metas[i]
        return Hit(id=view.ids[i], text=view.texts[i], file=meta["file"], scope=meta["scope"],
                   heading=meta.get("heading", ""), question=meta.get("question", ""), dense=dense,
                   bm25=bm25, rrf=rrf, lexical_coverage=view.lexical.coverage(qtokens, i))

    # ---- stats -----------------------------------------------------------------------------------

    def indexed_files(self) -> set[tuple[str, str]]:
        """(scope, file) of every file the index holds records of."""
        return set(self._stored())

    def stats(self) -> dict:
        stored = self._stored()
        scopes: dict[str, dict[str, int]] = defaultdict(lambda: {"files": 0, "chunks": 0})
        for (scope, _), s in stored.items():
            scopes[scope]["files"] += 1
            scopes[scope]["chunks"] += s.chunks
        return {"files": len(stored), "chunks": sum(v["chunks"] for v in scopes.values()),
                "scopes": dict(scopes), "last_sync": (self.collection.metadata or {}).get("last_sync")}


def _scope_filter(scopes: tuple[str, ...]) -> dict:
    return {"scope": scopes[0]} if len(scopes) == 1 else {"scope": {"$in": list(scopes)}}
