"""Decision latency and throughput without an LLM, over ≥ 5,000 messages, and the process's RSS.

Replays an eval folder's messages (default: the dev set) many times, one simulated day per pass so
flood counters and cooldowns behave as in a live group, through the real pipeline (Chroma, offline
embedding, SQLite). Prints figures, CPU time per route and RSS after each startup step; asserts
nothing. With --load N the messages are replayed twice, alone and beside N busy processes (the
figures a loaded server sees).

    .venv/bin/python bench/bench_pipeline.py [FOLDER] [--messages 5000] [--load N]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from agent import eval as evaluation
from agent.app import build
from agent.mentions import MentionParser
from agent.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _busy() -> None:
    while True:
        pass


def _timed_routes(pipeline) -> dict[str, list[float]]:
    """Wrap every route's match and handle to add up its CPU time per message (ms)."""
    spent: dict[str, list[float]] = {}
    for route in pipeline.routes:
        for method in ("match", "handle"):
            inner = getattr(route, method)

            def timed(*args, _inner=inner, _name=route.name):
                c0 = time.thread_time()
                try:
                    return _inner(*args)
                finally:
                    spent.setdefault(_name, []).append((time.thread_time() - c0) * 1000)
            setattr(route, method, timed)
    return spent


def replay(app, messages, label: str) -> None:
    spent = _timed_routes(app.pipeline) if not hasattr(app.pipeline, "_bench_timed") else app.pipeline._bench_timed
    app.pipeline._bench_timed = spent
    for times in spent.values():
        times.clear()
    latencies, cpu, kinds = [], [], {}
    start = time.perf_counter()
    for m in messages:
        c0 = time.thread_time()
        d = app.pipeline.dispatch(m)
        cpu.append((time.thread_time() - c0) * 1000)
        latencies.append(d.elapsed_ms)
        kinds[str(d.kind)] = kinds.get(str(d.kind), 0) + 1
    wall = time.perf_counter() - start
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    c = statistics.quantiles(sorted(cpu), n=100)
    print(f"[{label}] messages: {len(messages)}  decisions: {kinds}")
    print(f"[{label}] decision latency ms: p50 {q[49]:.2f}  p95 {q[94]:.2f}  p99 {q[98]:.2f}  max {latencies[-1]:.2f}")
    print(f"[{label}] decision CPU time ms: p50 {c[49]:.2f}  p95 {c[94]:.2f}")
    print(f"[{label}] throughput: {len(messages) / wall:.0f} messages/s (one process, one thread)")
    per_route = ", ".join(f"{name} {sum(t) / len(messages):.2f}" for name, t in spent.items())
    print(f"[{label}] CPU ms per message by route (match + handle): {per_route}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?", default=str(ROOT.parent / "shared" / "eval" / "newmedia"))
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--load", type=int, default=0, help="replay again beside N busy processes")
    args = ap.parse_args()
    folder = Path(args.folder)
    group = evaluation.load_group(folder)
    rows = [json.loads(x) for x in (folder / "messages.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    settings = load_settings(ROOT / "config")
    print(f"RSS after imports: {rss_mb():.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        kdir = Path(tmp) / "knowledge" / group.id
        kdir.mkdir(parents=True)
        for f in (folder / "knowledge").glob("*.md"):
            (kdir / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
        settings.kb.knowledge_dir = kdir.parent
        settings.data_dir = Path(tmp) / "data"
        settings.store.path = Path(tmp) / "data" / "steward.db"
        settings.groups = {group.id: group}
        t0 = time.perf_counter()
        app = build(settings)
        print(f"RSS after build: {rss_mb():.0f} MB")
        report = app.sync_knowledge()
        print(f"startup (build + sync {report.chunks} chunks + warm-up): {time.perf_counter() - t0:.2f} s, RSS {rss_mb():.0f} MB")
        mentions = MentionParser(group)
        messages = []
        for p in range(args.messages // len(rows) + 1):
            for i, row in enumerate(rows):
                m = evaluation.to_message(row, group, mentions, i)
                messages.append(replace(m, id=f"{m.id}-{p}", ts=m.ts + timedelta(days=7 * p)))
        messages = messages[: args.messages]
        replay(app, messages, "idle")
        print(f"peak RSS: {rss_mb():.0f} MB")
        if args.load:
            busy = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(args.load)]
            for proc in busy:
                proc.start()
            try:
                again = [replace(m, id=f"{m.id}-load", ts=m.ts + timedelta(days=7 * (len(messages) // len(rows) + 2)))
                         for m in messages]
                app.pipeline.forget()
                replay(app, again, f"beside {args.load} busy")
            finally:
                for proc in busy:
                    proc.terminate()
                    proc.join()
        app.close()


if __name__ == "__main__":
    main()
