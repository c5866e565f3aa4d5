"""Violation precision and recall of the moderation route alone, on any eval group folder.

    .venv/bin/python bench/bench_moderation.py ../shared/eval/newmedia [--show]

Replays messages.jsonl through ModerationRoute (no LLM, in-memory store) exactly as the eval builds
messages, and prints precision, recall, recall per kind and owners flagged. --show lists the misses.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from agent.eval import load_group
from agent.moderation.replay import read_rows, replay, score

ROOT = Path(__file__).resolve().parents[1]


def run(folder: Path, show: bool = False) -> dict:
    group = load_group(folder)
    replayed = replay(read_rows(folder), group, ROOT / "prompts")
    if show:
        for r in replayed:
            if r.flagged != r.expected:
                print(f"{r.row['id']}: expected {r.expected} got {r.flagged}: {r.row['text'][:70]}", file=sys.stderr)
    return score(replayed, group)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    print(json.dumps(run(Path(args[0]), "--show" in sys.argv), ensure_ascii=False, indent=1))
