"""Fit the off-topic judge on labelled groups, and score each group held out.

    .venv/bin/python bench/fit_theme.py ../shared/eval [--write] [--refresh]

For every message of every group, the group's own ThemeJudge (built from its folder alone, as the
eval builds it) measures it; messages that are glue or labelled violations never reach the judge and
are left out. A logistic regression over the measures says nudge (off-topic) or not, and its
threshold is picked on the same training groups (best F0.5). Each group is scored with the model
fitted on the others; with --write, agent/theme/offtopic_fit.json gets the model fitted on all groups
and the model fitted without each group, which `steward eval --all --holdout-each` selects. Measures are
cached in /tmp (--refresh recomputes them); the file stores numbers only, no text. Deterministic:
lbfgs on standardised features, no sampling.
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
from agent.theme.judge import DRIFT_MESSAGES, DRIFT_MINUTES, FEATURES, FIT

CACHE = Path("/tmp/steward-theme-measures.json")
BETA = 0.5  # the threshold maximises F0.5: a wrong nudge costs the bot more goodwill than a missed one
JUDGED = ("ignore", "nudge", "answer", "unknown")
REPO = Path(__file__).resolve().parents[1]


def measure_group(folder: Path) -> list[dict]:
    """[{features…, expect, glue}] for each message, in order."""
    settings = load_settings(REPO / "config")
    out = []
    with evaluation.sandbox(folder, settings) as (app, group):
        judge = app.judges(group.id)
        mentions = MentionParser(group, guess_bot=not evaluation.group_names_bot(group))
        rows = [json.loads(x) for x in (folder / "messages.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
        history: list[tuple[datetime, float]] = []
        for seq, row in enumerate(rows):
            message = evaluation.to_message(row, group, mentions, seq)
            m = judge.measure(row["text"])
            lean = max(m["seed"], m["off_desc"]) - max(m["on"], m["kb_top"])
            before = [x for t, x in history[-DRIFT_MESSAGES:] if message.ts - t <= timedelta(minutes=DRIFT_MINUTES)]
            m["drift"] = float(np.mean(before)) if before else 0.0
            out.append({**m, "expect": row["expect"], "glue": is_glue(message)})
            history.append((message.ts, lean))
    return out


def load(root: Path, refresh: bool) -> dict[str, list[dict]]:
    cached = json.loads(CACHE.read_text()) if CACHE.exists() and not refresh else {}
    folders = sorted(p for p in root.iterdir() if (p / "group.yaml").exists())
    for f in folders:
        if f.name not in cached:
            cached[f.name] = measure_group(f)
            CACHE.write_text(json.dumps(cached))
    return {f.name: cached[f.name] for f in folders}


def xy(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    judged = [r for r in rows if r["expect"] in JUDGED and not r["glue"]]
    return (np.array([[r[f] for f in FEATURES] for r in judged], dtype=np.float64),
            np.array([r["expect"] == "nudge" for r in judged], dtype=int))


def fit(rows: list[dict]) -> dict:
    x, y = xy(rows)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / scale, y)
    p = model.predict_proba((x - mean) / scale)[:, 1]
    grid = np.round(np.arange(0.05, 0.95, 0.01), 2)
    scores = [fbeta_score(y, p >= t, beta=BETA) for t in grid]
    threshold = float(grid[int(np.argmax(scores))])
    return {"mean": mean.tolist(), "scale": scale.tolist(), "coef": model.coef_[0].tolist(),
            "intercept": float(model.intercept_[0]), "threshold": threshold}


def score(model: dict, rows: list[dict]) -> dict:
    x, y = xy(rows)
    z = ((x - np.array(model["mean"])) / np.array(model["scale"])) @ np.array(model["coef"]) + model["intercept"]
    hit = 1 / (1 + np.exp(-z)) >= model["threshold"]
    tp, fp, fn = int((hit & (y == 1)).sum()), int((hit & (y == 0)).sum()), int((~hit & (y == 1)).sum())
    ignored = [r for r in rows if r["expect"] == "ignore"]
    judged_ignore = np.array([r["expect"] == "ignore" for r in rows if r["expect"] in JUDGED and not r["glue"]])
    return {"precision": round(tp / max(1, tp + fp), 4), "recall": round(tp / max(1, tp + fn), 4),
            "ignore_judged_offtopic": int((hit & judged_ignore).sum()), "ignore_n": len(ignored)}


def main(root: Path, write: bool, refresh: bool) -> None:
    data = load(root, refresh)
    report, without = {}, {}
    for name in data:
        without[name] = fit([r for g, rows in data.items() if g != name for r in rows])
        report[name] = {"threshold": without[name]["threshold"], **score(without[name], data[name])}
    mean = {k: round(float(np.mean([r[k] for r in report.values()])), 4) for k in ("precision", "recall")}
    worst = {k: min(r[k] for r in report.values()) for k in ("precision", "recall")}
    every = fit([r for rows in data.values() for r in rows])
    if write:
        FIT.write_text(json.dumps({"features": list(FEATURES), "all": every, "without": without}, indent=1) + "\n",
                       encoding="utf-8")
    print(json.dumps({"held_out": report, "mean": mean, "worst": worst,
                      "coef_all": dict(zip(FEATURES, np.round(every["coef"], 3).tolist()))}, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), "--write" in sys.argv[2:], "--refresh" in sys.argv[2:])
