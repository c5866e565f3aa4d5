"""Fit the off-topic judge on labelled groups, and score each group held out.

    .venv/bin/python bench/fit_theme.py ../shared/eval [--write] [--refresh]

For every message of every group, the group's own ThemeJudge (built from its folder alone, as the
eval builds it) measures it; messages that are glue or labelled violations never reach the judge and
are left out. Two logistic regressions (over the standardised measures and their pairwise products,
strongly regularised) say nudge (off-topic) or not: the first over the measures of the message alone
(ALONE), the second adds that first probability for the talk just before it
(CONTEXT, the window the route uses). The threshold maximises F0.5 averaged over the training groups
(each group counts once, whatever its size). Each group is scored with the model fitted on the others;
with --write, agent/theme/offtopic_fit.json gets the model fitted on all groups and the model fitted
without each group, which `steward eval --all --holdout-each` selects. Measures are cached in /tmp
(--refresh recomputes them); the file stores numbers only, no text. Deterministic: lbfgs on
standardised features, no sampling.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import fbeta_score

from agent import eval as evaluation
from agent.mentions import MentionParser
from agent.settings import load_settings
from agent.theme.glue import is_glue
from agent.theme.judge import ALONE, DRIFT_MESSAGES, DRIFT_MINUTES, FEATURES, FIT, pairs

CACHE = Path("/tmp/steward-theme-measures-v2.json")
BETA = 0.5  # the threshold maximises F0.5: a wrong nudge costs the bot more goodwill than a missed one
C = 0.03  # L2 strength: a few hundred labelled messages per group, 16 measures and their 120 products
JUDGED = ("ignore", "nudge", "answer", "unknown")
GRID = np.round(np.arange(0.05, 0.95, 0.01), 2)
REPO = Path(__file__).resolve().parents[1]


def measure_group(folder: Path) -> list[dict]:
    """[{measures…, expect, glue, ts}] for each message, in order."""
    settings = load_settings(REPO / "config")
    out = []
    with evaluation.sandbox(folder, settings) as (app, group), app.kb.vocabulary(group.id):
        judge = app.judges(group.id)
        mentions = MentionParser(group, guess_bot=not evaluation.group_names_bot(group))
        rows = [json.loads(x) for x in (folder / "messages.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
        for seq, row in enumerate(rows):
            message = evaluation.to_message(row, group, mentions, seq)
            out.append({**judge.measure(row["text"]), "expect": row["expect"], "glue": is_glue(message),
                        "ts": message.ts.isoformat()})
    return out


def load(root: Path, refresh: bool) -> dict[str, list[dict]]:
    cached = json.loads(CACHE.read_text()) if CACHE.exists() and not refresh else {}
    folders = sorted(p for p in root.iterdir() if (p / "group.yaml").exists())
    for f in folders:
        if f.name not in cached:
            cached[f.name] = measure_group(f)
            CACHE.write_text(json.dumps(cached))
    return {f.name: cached[f.name] for f in folders}


def _judged(r: dict) -> bool:
    return r["expect"] in JUDGED and not r["glue"]


def _standard(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


def _logistic(x: np.ndarray, y: np.ndarray) -> dict:
    """A Stage of agent.theme.judge: standardised measures and their pairwise products."""
    mean, scale = _standard(x)
    e = pairs((x - mean) / scale)
    pair_mean, pair_scale = _standard(e)
    model = LogisticRegression(C=C, max_iter=3000).fit((e - pair_mean) / pair_scale, y)
    return {"mean": mean.tolist(), "scale": scale.tolist(), "pair_mean": pair_mean.tolist(),
            "pair_scale": pair_scale.tolist(), "coef": model.coef_[0].tolist(), "intercept": float(model.intercept_[0])}


def _probability(stage: dict, x: np.ndarray) -> np.ndarray:
    e = pairs((x - np.array(stage["mean"])) / np.array(stage["scale"]))
    z = ((e - np.array(stage["pair_mean"])) / np.array(stage["pair_scale"])) @ np.array(stage["coef"]) + stage["intercept"]
    return 1 / (1 + np.exp(-z))


def with_context(alone: dict, rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(FEATURES, nudge?) for the judged messages of one group: the first stage's probability of the
    talk just before each message, as the judge computes it at run time."""
    p = _probability(alone, np.array([[r[f] for f in ALONE] for r in rows], dtype=np.float64))
    x, y = [], []
    for i, r in enumerate(rows):
        if not _judged(r):
            continue
        ts = datetime.fromisoformat(r["ts"])
        window = timedelta(minutes=DRIFT_MINUTES)
        prior = [p[j] for j in range(max(0, i - DRIFT_MESSAGES), i) if ts - datetime.fromisoformat(rows[j]["ts"]) <= window]
        x.append([*(r[f] for f in ALONE), float(np.mean(prior)) if prior else 0.0, prior[-1] if prior else 0.0])
        y.append(r["expect"] == "nudge")
    return np.array(x, dtype=np.float64), np.array(y, dtype=int)


def fit(groups: list[list[dict]]) -> dict:
    judged = [r for rows in groups for r in rows if _judged(r)]
    alone = _logistic(np.array([[r[f] for f in ALONE] for r in judged], dtype=np.float64),
                      np.array([r["expect"] == "nudge" for r in judged], dtype=int))
    parts = [with_context(alone, rows) for rows in groups]
    context = _logistic(np.vstack([x for x, _ in parts]), np.concatenate([y for _, y in parts]))
    per_group = [[fbeta_score(y, _probability(context, x) >= t, beta=BETA, zero_division=0) for t in GRID]
                 for x, y in parts]
    threshold = float(GRID[int(np.argmax(np.mean(per_group, axis=0)))])
    return {"alone": alone, "context": context, "threshold": threshold}


def score(model: dict, rows: list[dict]) -> dict:
    x, y = with_context(model["alone"], rows)
    hit = _probability(model["context"], x) >= model["threshold"]
    tp, fp, fn = int((hit & (y == 1)).sum()), int((hit & (y == 0)).sum()), int((~hit & (y == 1)).sum())
    return {"precision": round(tp / max(1, tp + fp), 4), "recall": round(tp / max(1, tp + fn), 4)}


def main(root: Path, write: bool, refresh: bool) -> None:
    data = load(root, refresh)
    report, without = {}, {}
    for name in data:
        without[name] = fit([rows for g, rows in data.items() if g != name])
        report[name] = {"threshold": without[name]["threshold"], **score(without[name], data[name])}
    mean = {k: round(float(np.mean([r[k] for r in report.values()])), 4) for k in ("precision", "recall")}
    worst = {k: min(r[k] for r in report.values()) for k in ("precision", "recall")}
    every = fit(list(data.values()))
    if write:
        FIT.write_text(json.dumps({"features": list(FEATURES), "all": every, "without": without}, indent=1) + "\n",
                       encoding="utf-8")
    print(json.dumps({"held_out": report, "mean": mean, "worst": worst,
                      "coef_all": dict(zip(FEATURES, np.round(every["context"]["coef"][:len(FEATURES)], 3).tolist()))},
                     indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), "--write" in sys.argv[2:], "--refresh" in sys.argv[2:])
