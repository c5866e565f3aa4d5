"""Knowledge folders → chunks → Chroma records, incrementally.

Chroma is the only state. Every record carries its file's content hash, the chunker signature and the
file's record count, so a sync can tell, from the collection alone, which files are complete and
current: unchanged files cost a hash and nothing else, and a sync that crashed halfway (some records
written, stale ones not yet deleted) shows up as incomplete and is redone by the next one.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from chromadb.api.models.Collection import Collection
from chromadb.api.types import EmbeddingFunction

from agent.kb.ingest import NotText, Chunk, chunk_text, chunker_signature, decode, file_hash, knowledge_files

log = logging.getLogger(__name__)

BATCH = 128  # records per embedding call / upsert
UNIT_MARK = ":"  # unit record id = chunk id + mark + n, so a dense hit maps back without metadata


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
class Stored:
    """What the collection holds for one file: its records (chunks and their units)."""

    ids: set[str] = field(default_factory=set)
    chunks: int = 0
    hashes: set[str] = field(default_factory=set)
    chunkers: set[str] = field(default_factory=set)
    counts: set[int] = field(default_factory=set)

    def current(self, content_hash: str, chunker: str) -> bool:
        return (self.hashes == {content_hash} and self.chunkers == {chunker}
                and self.counts == {len(self.ids)})


def records(chunks: list[Chunk], chunker: str) -> list[tuple[str, str, str, dict]]:
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


class Syncer:
    """Writes the chunks of knowledge folders into one collection; knows nothing of searching."""

    def __init__(self, collection: Collection, embedding_function: EmbeddingFunction, *,
                 chunk_size: int, chunk_overlap: int, max_file_bytes: int):
        self.collection, self.ef = collection, embedding_function
        self.chunk_size, self.chunk_overlap = chunk_size, chunk_overlap
        self.chunker = chunker_signature(chunk_size, chunk_overlap)
        self.max_file_bytes = max_file_bytes

    def stored(self) -> dict[tuple[str, str], Stored]:
        """(scope, file) → what the collection holds of it."""
        got = self.collection.get(include=["metadatas"])
        stored: dict[tuple[str, str], Stored] = defaultdict(Stored)
        for rid, meta in zip(got["ids"], got["metadatas"]):
            s = stored[(meta["scope"], meta["file"])]
            s.ids.add(rid)
            s.chunks += meta.get("kind") == "chunk"
            s.hashes.add(meta.get("content_hash", ""))
            s.chunkers.add(meta.get("chunker", ""))
            s.counts.add(int(meta.get("count", -1)))
        return stored

    def sync(self, sources: dict[str, Path], progress: bool = False) -> SyncReport:
        """Bring the given scopes in line with their folders (a missing folder empties its scope).
        Scopes not named in `sources` are left alone. The caller serialises syncs."""
        report = SyncReport()
        stored = self.stored()
        work = [(scope, rel, path) for scope, folder in sources.items()
                for rel, path in knowledge_files(Path(folder)).items()]
        pending: list[tuple[tuple, set[str]]] = []  # record, ids it replaces
        for scope, rel, path in _progress(work, progress):
            old = stored.pop((scope, rel), None)
            size = path.stat().st_size
            if size > self.max_file_bytes:
                _skip(report, stored, scope, rel, path, old,
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
                _skip(report, stored, scope, rel, path, old, str(exc))
                continue
            chunks = chunk_text(scope, rel, text, self.chunk_size, self.chunk_overlap, digest)
            recs = records(chunks, self.chunker)
            stale = (old.ids if old else set()) - {r[0] for r in recs}
            if not recs:  # an empty file has nothing to mark it done: just drop its old chunks
                if old:
                    self.collection.delete(ids=sorted(stale))
                    report.updated.append(f"{scope}/{rel}")
                continue
            (report.updated if old else report.added).append(f"{scope}/{rel}")
            report.chunks += len(chunks)
            # the stale ids ride on the file's last record: deleted only once all new ones are in
            pending.extend((r, stale if r is recs[-1] else set()) for r in recs)
            if len(pending) >= BATCH:
                self._write(pending)
                pending = []
        self._write(pending)
        for (scope, rel), old in stored.items():
            if scope in sources:
                self.collection.delete(ids=sorted(old.ids))
                report.removed.append(f"{scope}/{rel}")
        return report

    def _write(self, pending: list[tuple[tuple, set[str]]]) -> None:
        """Embed and upsert new records first (in slices of BATCH), then delete what they replace:
        a crash in between leaves a file marked incomplete (mixed hashes or a short count), never a
        file silently missing chunks."""
        for start in range(0, len(pending), BATCH):
            recs = [r for r, _ in pending[start:start + BATCH]]
            self.collection.upsert(
                ids=[r[0] for r in recs],
                embeddings=np.asarray(self.ef([r[1] for r in recs]), dtype=np.float32),
                documents=[r[2] for r in recs],
                metadatas=[r[3] for r in recs],
            )
        stale = sorted(set().union(*(s for _, s in pending)))
        if stale:
            self.collection.delete(ids=stale)


def _skip(report: SyncReport, stored: dict, scope: str, rel: str, path: Path, old: Stored | None, why: str) -> None:
    """A file sync will not index: named in the report and the log; its old chunks go, as a removed
    file's do."""
    if old is not None:
        stored[(scope, rel)] = old
    report.skipped.append(f"{scope}/{rel}: {why}")
    log.warning("knowledge file %s skipped: %s", path, why)


def _progress(work: list, show: bool):
    if not show or not work:
        return work
    from rich.progress import track

    return track(work, description="Syncing knowledge", transient=True)
