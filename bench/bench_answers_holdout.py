"""Held-out answer figures: each labelled group scored by weights fitted on the other groups only.

The honest counterpart of `steward eval --all DIR --holdout-each`, reduced to what answering is judged
on (answer accuracy, invented answers, unknown recall, ignore accuracy), per group, mean and worst.
Prints JSON.

    .venv/bin/python bench/bench_answers_holdout.py ../shared/eval
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent.eval_all import run_all
from agent.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("answer.accuracy", "unknown.invented", "unknown.recall", "ignore.accuracy")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", type=Path, help="a folder of labelled groups")
    ap.add_argument("--shipped", action="store_true", help="score with the shipped weights (fitted on every group)")
    args = ap.parse_args()
    summary = run_all(args.root, load_settings(ROOT / "config"), holdout_each=not args.shipped,
                      progress=lambda note: print(note, file=sys.stderr))
    out = {"held_out": not args.shipped, "groups": {}}
    for m in summary["groups"]:
        out["groups"][m["group"]] = {"answer.accuracy": m["answer"]["accuracy"], "unknown.invented": m["unknown"]["invented"],
                                     "unknown.recall": m["unknown"]["recall"], "ignore.accuracy": m["ignore"]["accuracy"]}
    out["mean"] = {k: summary["mean"][k] for k in FIGURES}
    out["worst"] = {k: summary["worst"][k] for k in FIGURES}
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
