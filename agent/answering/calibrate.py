"""Fit the answerability model on labelled groups (folders of the shared/eval shape).

    python -m agent.answering.calibrate ../shared/eval            # rewrite the shipped weights

Each labelled question the answer route would take is asked of a fresh index of its group's own
knowledge, and each passage it would judge becomes one row: its features, and whether it holds every
fact the label asks for. Questions labelled unknown (and chatter the route takes) give negatives only.
Two logistic regressions are fitted on the pooled rows (the second on the embedding-only features,
for cross-lingual pairs). The answer threshold is set by counting answers right against answers
invented on out-of-fold decisions (each group decided by regressions fitted without it), and folded
into the intercepts so that 0.5 is the cut. Deterministic: same folders, same weights. The folders are
read at fit time only; the model file holds numbers and counts, no text.
"""
from __future__ import annotations

import argparse
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from agent.answering.confidence import TIE
from agent.answering.features import EMBEDDING_ONLY, NAMES
from agent.answering.model import PATH, AnswerModel, Logistic
from agent.settings import Settings

C = 0.5  # inverse regularisation: few hundred questions, keep the weights modest
INVENTED_COST = 3.0  # an answer to an unanswerable question costs three right answers
WRONG_COST = 0.5  # answering with a passage that lacks the facts: no gain, and it misleads
NEGATIVE_WEIGHT = {"unknown": 1.0, "ignore": 0.5, "nudge": 0.5}  # chatter the route takes: weaker evidence


@dataclass(frozen=True)
class Row:
    """One passage judged for one labelled question."""

    values: tuple[float, ...]
    cross: bool
    holds: bool  # the passage holds every fact (answerable questions only)


@dataclass(frozen=True)
class Asked:
    group: str
    expect: str  # answer | unknown | ignore | nudge
    rows: tuple[Row, ...]


def harvest(folder: Path, settings: Settings) -> list[Asked]:
    """The rows of every labelled message of `folder` that the answer route takes, judged by the
    route's own code on an isolated index of the folder's knowledge."""
    import json

    from agent.eval import group_names_bot, holds_facts, sandbox, to_message
    from agent.mentions import MentionParser
    from agent.pipeline import Context

    out: list[Asked] = []
    with sandbox(folder, settings) as (app, group), app.kb.vocabulary(group.id):
        route = next(r for r in app.pipeline.routes if r.name == "answer")
        ctx = Context(group=group, services=app.pipeline.services, recent=deque())
        mentions = MentionParser(group, guess_bot=not group_names_bot(group))
        lines = (folder / "messages.jsonl").read_text(encoding="utf-8").splitlines()
        for seq, row in enumerate(json.loads(x) for x in lines if x.strip()):
            if row["expect"] not in ("answer", "unknown", "ignore", "nudge"):
                continue
            message = to_message(row, group, mentions, seq)
            if not route.asks(message, ctx):
                continue
            facts = row.get("facts", [])
            rows = tuple(Row(c.observed.values, c.observed.cross,
                             row["expect"] == "answer" and holds_facts(f"{c.hit.heading}\n{c.hit.text}", facts))
                         for c in route.candidates(message.text, ctx))
            out.append(Asked(group.id, row["expect"], rows))
    return out


def _logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, names: tuple[str, ...]) -> Logistic:
    from sklearn.linear_model import LogisticRegression

    cols = [NAMES.index(n) for n in names]
    x = x[:, cols]
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit((x - mean) / scale, y, sample_weight=w)
    return Logistic(names, tuple(map(float, mean)), tuple(map(float, scale)),
                    tuple(float(c) for c in clf.coef_[0]), float(clf.intercept_[0]))


def decide(model: AnswerModel, asked: Asked) -> tuple[float, Row | None]:
    """The route's decision rule: the passage with the highest probability, and that probability; a
    runner-up within TIE is quoted with it, so the answer holds the facts when either passage does."""
    scored = sorted(((model.probability(r.values, r.cross), r) for r in asked.rows), key=lambda s: -s[0])
    if not scored:
        return 0.0, None
    (p, best), runner_up = scored[0], scored[1:2]
    if runner_up and p - runner_up[0][0] <= TIE and runner_up[0][1].holds:
        best = replace(best, holds=True)
    return p, best


Decided = list[tuple[str, float, Row | None]]  # (expect, probability, passage) per question


def decisions(model: AnswerModel, asked: Iterable[Asked]) -> Decided:
    return [(a.expect, *decide(model, a)) for a in asked]


def outcome(decided: Decided, threshold: float) -> dict[str, int]:
    """Right answers, wrong answers and invented answers at `threshold`."""
    n = {"right": 0, "wrong": 0, "invented": 0}
    for expect, p, row in decided:
        if p < threshold or row is None:
            continue
        if expect == "answer":
            n["right" if row.holds else "wrong"] += 1
        elif expect == "unknown":
            n["invented"] += 1
    return n


def _regressions(asked: list[Asked]) -> tuple[Logistic, Logistic]:
    rows = [(r, a.expect) for a in asked for r in a.rows]
    x = np.array([r.values for r, _ in rows], dtype=np.float64)
    y = np.array([int(r.holds) for r, _ in rows])
    w = np.array([1.0 if e == "answer" else NEGATIVE_WEIGHT[e] for _, e in rows])
    return _logistic(x, y, w, NAMES), _logistic(x, y, w, EMBEDDING_ONLY)


def out_of_fold(asked: list[Asked]) -> Decided:
    """Each group's questions decided by regressions fitted without that group. Probabilities on the
    questions a model was fitted on are over-confident, and a cut set on them does not carry over to
    a group the model never saw (the held-out cut ranged 0.43–0.71 over the five groups); a cut set
    on out-of-fold probabilities is set the way it will be used."""
    groups = sorted({a.group for a in asked})
    if len(groups) < 3:  # too few to leave one out and still fit on more than one
        return decisions(AnswerModel(*_regressions(asked), {}), asked)
    decided: Decided = []
    for g in groups:
        model = AnswerModel(*_regressions([a for a in asked if a.group != g]), {})
        decided += decisions(model, [a for a in asked if a.group == g])
    return decided


def fit(asked: list[Asked]) -> AnswerModel:
    """Both regressions from the pooled questions, and the cut from their out-of-fold decisions."""
    full, embedding = _regressions(asked)
    meta = {"questions": {e: sum(a.expect == e for a in asked) for e in ("answer", "unknown", "ignore", "nudge")},
            "groups": len({a.group for a in asked}), "rows": sum(len(a.rows) for a in asked), "C": C,
            "invented_cost": INVENTED_COST, "wrong_cost": WRONG_COST, "cut_from": "out-of-fold"}
    cut = _threshold(out_of_fold(asked))
    shift = -math.log(cut / (1 - cut))  # so that 0.5 is the cut
    return AnswerModel(full.shifted(shift), embedding.shifted(shift), {**meta, "fitted_cut": cut})


def _threshold(decided: Decided) -> float:
    """The probability cut that maximises right − WRONG_COST·wrong − INVENTED_COST·invented; of equal
    ones, the middle of the best run (a cut in the middle of a gap carries over best)."""
    grid = [round(t, 3) for t in np.arange(0.05, 0.951, 0.01)]
    gains = []
    for t in grid:
        n = outcome(decided, t)
        gains.append(n["right"] - WRONG_COST * n["wrong"] - INVENTED_COST * n["invented"])
    best = max(gains)
    run = [t for t, g in zip(grid, gains) if g == best]
    return float(run[len(run) // 2])


def fit_folders(folders: list[Path], settings: Settings) -> AnswerModel:
    return fit([a for f in folders for a in harvest(f, settings)])


def main() -> None:
    from agent.eval import groups_under
    from agent.settings import load_settings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path, help="a folder of labelled groups (shared/eval)")
    ap.add_argument("--config", type=Path, default=Path("config"))
    ap.add_argument("--out", type=Path, default=PATH)
    args = ap.parse_args()
    model = fit_folders(groups_under(args.root), load_settings(args.config))
    model.save(args.out)
    print(f"wrote {args.out}: {model.meta}")


if __name__ == "__main__":
    main()
