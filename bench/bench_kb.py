"""Knowledge base costs: raw embedding throughput, sync throughput, re-sync with nothing changed,
query latency and memory. Prints figures; asserts nothing.

Run: .venv/bin/python bench/bench_kb.py [copies]   (the dev-set knowledge, copied into N scopes)
"""
from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import chromadb
import numpy as np

from agent.kb import KnowledgeBase, USEEmbeddingFunction, embed
from agent.kb.ingest import chunk_text, knowledge_files

KNOWLEDGE = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "newmedia" / "knowledge"
QUERIES = ["分享会几点开始", "沙龙票价多少", "头条封面尺寸", "服务号每月能群发几次", "二维码多大合适"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(copies: int = 10) -> None:
    t = time.perf_counter()
    embed(["预热"])
    print(f"embedding model load: {time.perf_counter() - t:.2f}s, peak RSS {rss_mb():.0f} MB")

    sentences = [s for f in knowledge_files(KNOWLEDGE).values()
                 for c in chunk_text("s", f.name, f.read_text("utf-8"), 360, 40) for s in c.units]
    t = time.perf_counter()
    embed(sentences)
    raw = len(sentences) / (time.perf_counter() - t)
    print(f"raw embedding: {raw:,.0f} sentences/s ({len(sentences)} knowledge sentences, one batch)")

    with tempfile.TemporaryDirectory() as tmp:
        sources = {}
        for n in range(copies):
            sources[f"g{n}"] = Path(tmp) / f"g{n}"
            shutil.copytree(KNOWLEDGE, sources[f"g{n}"])
        settings = chromadb.Settings(anonymized_telemetry=False)
        kb = KnowledgeBase(chromadb.PersistentClient(path=str(Path(tmp) / "chroma"), settings=settings),
                           USEEmbeddingFunction())
        first = kb.sync(sources)
        records = kb.collection.count()
        print(f"first sync: {len(first.added)} files, {first.chunks} chunks ({records} records with "
              f"sentence units) in {first.seconds:.2f}s = {first.chunks / first.seconds:,.0f} chunks/s, "
              f"{records / first.seconds:,.0f} records/s")
        again = [kb.sync(sources).seconds for _ in range(5)]
        print(f"re-sync, nothing changed ({first.chunks} chunks, {len(first.added)} files): "
              f"median {np.median(again) * 1000:.1f} ms")
        edited = sources["g0"] / "events.md"
        edited.write_text(edited.read_text("utf-8") + "\n- 补充：新增一条。\n", encoding="utf-8")
        one = kb.sync(sources)
        print(f"re-sync, one file edited: {one.seconds * 1000:.0f} ms ({one.chunks} chunks re-embedded)")

        kb.search(QUERIES[0], ["g0", "shared"])
        lat = []
        for _ in range(20):
            for q in QUERIES:
                t = time.perf_counter()
                kb.search(q, ["g0", "shared"], k=5)
                lat.append(time.perf_counter() - t)
        lat_ms = np.array(lat) * 1000
        print(f"search ({len(kb.index.scope_set(['g0', 'shared']).ids)} chunks in scope, {records} records in "
              f"collection): median {np.median(lat_ms):.2f} ms, p95 {np.percentile(lat_ms, 95):.2f} ms")
    print(f"peak RSS: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
