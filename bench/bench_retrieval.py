"""Right-file rate of retrieval on the eval dev set: naive dense, BM25 alone, and the hybrid.

For every answer-labelled message with a `source`, does that file come first (top-1) or in the first
three hits (top-3)? Run: .venv/bin/python bench/bench_retrieval.py [path/to/eval/set]
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import chromadb
import numpy as np

from agent.kb import KnowledgeBase, USEEmbeddingFunction
from agent.kb.retrieve import query_tokens

DEFAULT_SET = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "newmedia"
SCOPE = "dev"


def ranked_files(files: list[str]) -> list[str]:
    return list(dict.fromkeys(files))


def rate(results: list[tuple[str, list[str]]], n: int) -> float:
    return sum(src in ranked_files(files)[:n] for src, files in results) / len(results)


def main(eval_dir: Path = DEFAULT_SET) -> None:
    questions = [json.loads(line) for line in (eval_dir / "messages.jsonl").read_text("utf-8").splitlines()]
    questions = [q for q in questions if q.get("expect") == "answer" and q.get("source")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / SCOPE
        shutil.copytree(eval_dir / "knowledge", folder)
        ef = USEEmbeddingFunction()
        kb = KnowledgeBase(chromadb.EphemeralClient(), ef, collection="bench_retrieval")
        kb.sync({SCOPE: folder})
        kb.search("warm up", [SCOPE])
        view = kb.index.scope_set([SCOPE])

        dense, bm25, hybrid, hybrid60, latencies = [], [], [], [], []
        for q in questions:
            got = kb.collection.query(query_texts=[q["text"]], n_results=5, where={"kind": "chunk"},
                                      include=["metadatas"])
            dense.append((q["source"], [m["file"] for m in got["metadatas"][0]]))
            scores = view.lexical.scores(query_tokens(q["text"]))
            bm25.append((q["source"], [view.metas[i]["file"] for i in np.argsort(-scores, kind="stable")[:5]]))
            t = time.perf_counter()
            hits = kb.search(q["text"], [SCOPE], k=5)
            latencies.append(time.perf_counter() - t)
            hybrid.append((q["source"], [h.file for h in hits]))
            kb.rrf_k, default_k = 60, kb.rrf_k
            hybrid60.append((q["source"], [h.file for h in kb.search(q["text"], [SCOPE], k=5)]))
            kb.rrf_k = default_k

    print(f"{len(questions)} answerable questions, {len(view.ids)} chunks")
    print(f"{'method':<34}{'top-1':>8}{'top-3':>8}")
    for name, res in [("dense (Chroma, raw message)", dense), ("BM25 (jieba content tokens)", bm25),
                      (f"hybrid (weighted RRF, k={kb.rrf_k})", hybrid), ("hybrid (weighted RRF, k=60)", hybrid60)]:
        print(f"{name:<34}{rate(res, 1):>8.1%}{rate(res, 3):>8.1%}")
    lat = np.array(latencies) * 1000
    print(f"hybrid search latency: median {np.median(lat):.2f} ms, p95 {np.percentile(lat, 95):.2f} ms")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SET)
