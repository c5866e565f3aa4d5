"""The in-memory hybrid index over a knowledge collection: BM25 and chunk texts per scope set, dense
search exact in memory when the index is small, rank fusion of both.

Each scope set is rebuilt after the collection changed, on the caller's thread or (a message's path)
in the background; either way the old set answers until its successor replaces it, so no message
waits for a rebuild (only a scope set never built before is built on the caller's thread).
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np
from chromadb.api.models.Collection import Collection
from chromadb.api.types import EmbeddingFunction

from agent.kb.ingest import SEP, domain_terms
from agent.kb.retrieve import Hit, LexicalIndex, clean_query, document_terms, fuse, query_tokens
from agent.kb.sync import UNIT_MARK
from agent.kb.tokenize import learnable, vocabulary

log = logging.getLogger(__name__)

DENSE_CANDIDATES = 400  # records (chunks and units) a dense query returns
IN_MEMORY_RECORDS = 20_000  # up to this many records (40 MB of vectors) dense search runs in memory
RRF_K = 10
# a background rebuild waits this long: the messages right after a change do not share the CPU with
# it, and a burst of changes (several /kb add) is mostly rebuilt once
SETTLE_S = 0.5


@dataclass
class ScopeSet:
    """In-memory view of the chunks of some scopes: what BM25, coverage and hit building need."""

    ids: list[str]
    metas: list[dict]
    texts: list[str]
    lexical: LexicalIndex
    position: dict[str, int]
    records: int  # chunks and units, the candidates of a dense query
    built_at: int  # the index version it was built from
    words: frozenset[str] = frozenset()  # what its chunks mark (headings, bold, quotes): how its text is cut
    # every record's vector and its chunk's position, when the index is small enough to hold them:
    # an exact dot product then replaces a Chroma query (0.1 ms against 9 ms a question here)
    vectors: np.ndarray | None = None
    owners: np.ndarray | None = None


@dataclass
class _Parsed:
    """What indexing read from one chunk, kept between rebuilds: after a /kb add only the new chunks
    are tokenized (all of them again when the scope set's words changed: a new `epoch`)."""

    scope: str
    headed: str  # heading, question and text: what BM25 indexes
    marked: set[str]  # domain terms the chunk marks (headings, bold, quotes)
    epoch: frozenset[str] | None = None  # the knowledge words `terms` were cut with
    terms: list[str] = field(default_factory=list)


class SearchIndex:
    """Dense + BM25 search over one collection's chunks, cached per scope set and keyed on `version`."""

    def __init__(self, collection: Collection, embedding_function: EmbeddingFunction, *, rrf_k: int = RRF_K,
                 dense_weight: float = 1.0, bm25_weight: float = 1.5):
        self.collection, self.ef = collection, embedding_function
        self.rrf_k, self.dense_weight, self.bm25_weight = rrf_k, dense_weight, bm25_weight
        self.version = 0  # bumped by every change of the collection: caches built on it key on it
        self._cache: dict[tuple[str, ...], ScopeSet] = {}
        self._lock = threading.Lock()  # the scope sets and their rebuilds: held briefly, never by a sync
        self._rebuilds: dict[tuple[str, ...], Future] = {}
        self._parsed: dict[str, _Parsed] = {}  # by chunk id
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-index")
        self._closed = threading.Event()

    def changed(self, background: bool) -> None:
        """The collection changed: rebuild every scope set searched so far, now or (`background`) on
        the index thread while the old sets answer."""
        with self._lock:
            self.version += 1
            stale = list(self._cache)
            if background:
                for key in stale:
                    self._refresh(key)
        if not background:
            for key in stale:
                self._build(key)

    def scope_set(self, scopes: list[str]) -> ScopeSet:
        """The scope set to search now: the cached one, even if a change made it stale (its successor
        is then built in the background); built here only the first time."""
        key = tuple(sorted(set(scopes)))
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                if cached.built_at != self.version:
                    self._refresh(key)
                return cached
        return self._build(key)

    def _refresh(self, key: tuple[str, ...]) -> None:
        """Queue one background rebuild of a scope set (callers hold the lock)."""
        running = self._rebuilds.get(key)
        if (running is None or running.done()) and not self._closed.is_set():
            self._rebuilds[key] = self._worker.submit(self._rebuild, key)

    def _rebuild(self, key: tuple[str, ...]) -> None:
        if self._closed.wait(SETTLE_S):  # closed meanwhile: the collection is going
            return
        try:
            self._build(key)
        except Exception:  # the old set keeps answering; the next search after a change retries
            log.exception("rebuilding the search index of %s failed", "+".join(key))

    def _build(self, key: tuple[str, ...]) -> ScopeSet:
        """Read the scopes' chunks and index them, then swap the result in, unless a newer one is there."""
        with self._lock:
            built_at = self.version  # read first: a change during the build leaves the set stale, not wrong
        held = self.collection.count() <= IN_MEMORY_RECORDS
        got = self.collection.get(where=scope_filter(key),
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
        # terms these scopes' knowledge marks (headings, bold, quotes) are words when their text is cut
        words = learnable(set().union(*(p.marked for p in parsed)))
        with vocabulary(words):
            for p in parsed:
                if p.epoch != words:
                    p.terms = document_terms(p.headed)
                    p.epoch = words
        terms = [p.terms for p in parsed]
        kept = set(ids)
        for gone in [i for i, p in self._parsed.items() if p.scope in key and i not in kept]:
            self._parsed.pop(gone, None)
        built = ScopeSet(ids, metas, texts, LexicalIndex(headed, terms), position, records=len(got["ids"]),
                         built_at=built_at, words=words, vectors=vectors, owners=owners)
        with self._lock:
            cached = self._cache.get(key)
            if cached is None or cached.built_at <= built_at:
                self._cache[key] = built
            return self._cache[key]

    def close(self) -> None:
        """Stop rebuilding (the collection is about to go): a waiting or queued rebuild is dropped, a
        running one finishes first."""
        self._closed.set()
        self._worker.shutdown(wait=True, cancel_futures=True)

    def ready(self, timeout: float = 60) -> bool:
        """Wait until every scope set searched so far is built from the current index (never, once
        closed)."""
        deadline = time.monotonic() + timeout
        while not self._closed.is_set():
            with self._lock:
                stale = [k for k, v in self._cache.items() if v.built_at != self.version]
                for key in stale:
                    self._refresh(key)
                running = [f for f in self._rebuilds.values() if not f.done()]
            if not stale and not running:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            wait(running, timeout=left)
        return False

    def search(self, query: str, scopes: list[str], k: int = 5) -> list[Hit]:
        """Top-k chunks of the given scopes for `query`, by dense + BM25 rank fusion."""
        view = self.scope_set(scopes)
        if not view.ids or not query.strip():
            return []
        qvec = np.asarray(self.ef([clean_query(query) or query]), dtype=np.float32)
        dense = self._dense(view, qvec, scopes)  # chunk position -> best similarity of its records
        with vocabulary(view.words):
            qtokens = query_tokens(query)
        bm25 = view.lexical.scores(qtokens)
        bm25_order = [int(i) for i in np.argsort(-bm25, kind="stable") if bm25[i] > 0]
        fused = fuse([(list(dense), self.dense_weight), (bm25_order, self.bm25_weight)], self.rrf_k)
        top = sorted(fused, key=fused.get, reverse=True)[:k]
        for i in top:  # beyond the dense candidates (large scopes only): score the chunk record
            if i not in dense:  # (an old scope set may name a chunk a sync has just removed)
                vecs = self.collection.get(ids=[view.ids[i]], include=["embeddings"])["embeddings"]
                dense[i] = max(0.0, float(np.dot(qvec[0], vecs[0]))) if len(vecs) else 0.0
        return [_hit(view, i, dense[i], float(bm25[i]), fused[i], qtokens) for i in top]

    def _dense(self, view: ScopeSet, qvec: np.ndarray, scopes: list[str]) -> dict[int, float]:
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
                                    where=scope_filter(tuple(sorted(set(scopes)))), include=["distances"])
        for rid, dist in zip(got["ids"][0], got["distances"][0]):
            i = view.position.get(rid.split(UNIT_MARK)[0])
            if i is not None and i not in dense:  # results come best first
                dense[i] = max(0.0, 1.0 - dist)
        return dense


def _hit(view: ScopeSet, i: int, dense: float, bm25: float, rrf: float, qtokens: list[str]) -> Hit:
    meta = view.metas[i]
    return Hit(id=view.ids[i], text=view.texts[i], file=meta["file"], scope=meta["scope"],
               heading=meta.get("heading", ""), question=meta.get("question", ""), dense=dense,
               bm25=bm25, rrf=rrf, lexical_coverage=view.lexical.coverage(qtokens, i))


def scope_filter(scopes: tuple[str, ...]) -> dict:
    return {"scope": scopes[0]} if len(scopes) == 1 else {"scope": {"$in": list(scopes)}}
