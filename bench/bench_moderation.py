"""Violation precision and recall of the moderation route alone, on eval group folders.

    .venv/bin/python bench/bench_moderation.py ../shared/eval/newmedia [--show]
    .venv/bin/python bench/bench_moderation.py --holdout-each ../shared/eval

Replays messages.jsonl through ModerationRoute (no LLM, in-memory store) exactly as the eval builds
messages, and prints precision, recall, recall per kind and owners flagged. --show lists the misses.
--holdout-each scores every group folder under the directory twice: with the shipped thresholds, and
with the classifier's per-class thresholds picked on the *other* groups only (most violations caught
for three false alarms' cost each), then prints each group, the mean and the worst.
"""
from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

from agent.eval import load_group
from agent.moderation import classifier, detectors, flood, text
from agent.replay import read_rows, replay, score

ROOT = Path(__file__).resolve().parents[1]
GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
FALSE_ALARM_COST = 3


def run(folder: Path, show: bool = False) -> dict:
    group = load_group(folder)
    replayed = replay(read_rows(folder), group, ROOT / "prompts")
    if show:
        for r in replayed:
            if r.flagged != r.expected:
                print(f"{r.row['id']}: expected {r.expected} got {r.flagged}: {r.row['text'][:70]}", file=sys.stderr)
    return score(replayed, group)


def _use(thresholds: dict[str, float], scores) -> None:
    """Point the detectors at the shipped weights with these thresholds (scores cached per text)."""
    model = SimpleNamespace(scores_normal=scores, thresholds=thresholds)
    classifier.shipped = lambda: model


def _gain(folders: list[Path]) -> int:
    """Violations caught minus FALSE_ALARM_COST per false alarm, pooled over the folders."""
    total = 0
    for folder in folders:
        for r in replay(read_rows(folder), load_group(folder), ROOT / "prompts"):
            if r.flagged:
                total += 1 if r.expected else -FALSE_ALARM_COST
    return total


def pick(folders: list[Path], scores, start: dict[str, float]) -> dict[str, float]:
    """Per-class thresholds, one class at a time over GRID, on these folders only."""
    best = dict(start)
    for kind in best:
        gains = {}
        for t in GRID:
            _use({**best, kind: t}, scores)
            gains[t] = _gain(folders)
        best[kind] = max(GRID, key=lambda t: (gains[t], t))
    return best


def _memoise_text_work() -> None:
    """Normalising and URL extraction depend on the text alone: do each once across the many replays."""
    text.fold = flood.fold = lru_cache(maxsize=None)(text.fold)
    detectors.find_links = lru_cache(maxsize=None)(detectors.find_links)


def holdout_each(parent: Path) -> dict:
    _memoise_text_work()
    folders = sorted(p for p in parent.iterdir() if (p / "messages.jsonl").exists())
    shipped = classifier.shipped()
    scores = lru_cache(maxsize=None)(shipped.scores_normal)
    out = {"shipped_thresholds": shipped.thresholds, "groups": []}
    for held in folders:
        _use(shipped.thresholds, scores)
        as_shipped = run(held)
        picked = pick([f for f in folders if f != held], scores, shipped.thresholds)
        _use(picked, scores)
        out["groups"].append({"group": held.name, "shipped": as_shipped, "held_out": run(held), "thresholds": picked})
    for key in ("shipped", "held_out"):
        rows = [g[key] for g in out["groups"]]
        out[f"{key}_mean"] = {m: round(sum(r[m] for r in rows) / len(rows), 3) for m in ("precision", "recall")}
        out[f"{key}_worst"] = {m: min(r[m] for r in rows) for m in ("precision", "recall")}
        out[f"{key}_owner_flagged"] = sum(r["owner_flagged"] for r in rows)
    return out


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    result = holdout_each(Path(args[0])) if "--holdout-each" in sys.argv else run(Path(args[0]), "--show" in sys.argv)
    print(json.dumps(result, ensure_ascii=False, indent=1))
