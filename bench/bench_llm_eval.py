"""Model quality and cost on a labelled group: the eval without a model beside the eval with the
configured one. Prints answer accuracy, invented answers, unknown recall, LLM calls and tokens per 100
messages, and latency; asserts nothing.

Run: .venv/bin/python bench/bench_llm_eval.py [FOLDER] [--config DIR]
For the local model: llm.provider local in DIR/settings.yaml (a generous timeout_s and reply_deadline_s:
a 1.5B model on 2 cores needs tens of seconds for a long prompt) and STEWARD_LOCAL_MODEL, or the model in the data
folder the install script filled.
"""
from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from agent import eval as evaluation
from agent.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
DEV_SET = ROOT.parent / "shared" / "eval" / "newmedia"


def figures(metrics: dict, seconds: float) -> dict:
    per_100 = 100 / metrics["messages"]
    return {
        "answer accuracy": f"{metrics['answer']['accuracy']:.3f}",
        "source accuracy": f"{metrics['answer']['source_accuracy']:.3f}",
        "invented answers": str(metrics["unknown"]["invented"]),
        "unknown recall": f"{metrics['unknown']['recall']:.3f}",
        "must_not hits": str(metrics["must_not_hits"]),
        "LLM calls / 100 msgs": f"{metrics['llm_calls'] * per_100:.1f}",
        "LLM tokens / 100 msgs": f"{metrics['llm_tokens'] * per_100:,.0f}",
        "latency p50 / p95 ms": f"{metrics['latency_ms']['p50']:.0f} / {metrics['latency_ms']['p95']:.0f}",
        "wall time s": f"{seconds:.0f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEV_SET)
    parser.add_argument("--config", type=Path, default=ROOT / "config")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = load_settings(args.config)
    columns = {}
    for mode in ("none", "config"):
        started = time.perf_counter()
        metrics = evaluation.run(args.folder, settings, llm_mode=mode)
        columns["no LLM" if mode == "none" else metrics["llm"]] = figures(metrics, time.perf_counter() - started)
    names = list(columns)
    print(f"{'':24}" + "".join(f"{n[:40]:>42}" for n in names))
    for row in next(iter(columns.values())):
        print(f"{row:24}" + "".join(f"{columns[n][row]:>42}" for n in names))


if __name__ == "__main__":
    main()
