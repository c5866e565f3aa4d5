"""The fitted answerability model: logistic regressions over `features.NAMES`, read from a small JSON.

The weights are fitted by `agent.answering.calibrate` on labelled groups (answerable questions whose
passage holds every fact vs. questions the knowledge cannot answer), never set by hand. Two
regressions: `full` for a question and passage in the same language, `embedding` (the features of
`features.EMBEDDING_ONLY`) when they differ, because word overlap says nothing across languages.
Their intercepts carry the fitted answer threshold, so a probability of 0.5 is the cut.
Only numpy is needed at run time; scikit-learn is needed only to fit.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from agent.answering.features import EMBEDDING_ONLY, NAMES

PATH = Path(__file__).with_name("answerability.json")


@dataclass(frozen=True)
class Logistic:
    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept + sum(c * (values[n] - m) / s for n, m, s, c in
                                 zip(self.names, self.mean, self.scale, self.coef))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def as_dict(self) -> dict:
        """Rounded to 4 decimals: a refit on the same folders then writes the same file (the
        embedding's float noise stays below that)."""
        return {"names": list(self.names), "mean": _round(self.mean), "scale": _round(self.scale),
                "coef": _round(self.coef), "intercept": round(self.intercept, 4)}

    @classmethod
    def from_dict(cls, d: dict) -> "Logistic":
        return cls(tuple(d["names"]), tuple(d["mean"]), tuple(d["scale"]), tuple(d["coef"]), float(d["intercept"]))

    def shifted(self, by: float) -> "Logistic":
        return Logistic(self.names, self.mean, self.scale, self.coef, self.intercept + by)


def _round(values: tuple[float, ...]) -> list[float]:
    return [round(v, 4) for v in values]


@dataclass(frozen=True)
class AnswerModel:
    full: Logistic
    embedding: Logistic
    meta: dict  # how it was fitted: counts and settings, never any text

    def probability(self, values: tuple[float, ...], cross: bool) -> float:
        named = dict(zip(NAMES, values))
        return (self.embedding if cross else self.full).probability(named)

    def as_dict(self) -> dict:
        return {"features": list(NAMES), "embedding_only": list(EMBEDDING_ONLY),
                "full": self.full.as_dict(), "embedding": self.embedding.as_dict(), "meta": self.meta}

    @classmethod
    def from_dict(cls, d: dict) -> "AnswerModel":
        if tuple(d["features"]) != NAMES:
            raise ValueError("answerability model was fitted on other features: rebuild it "
                             "(python -m agent.answering.calibrate)")
        return cls(Logistic.from_dict(d["full"]), Logistic.from_dict(d["embedding"]), d.get("meta", {}))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


_override: list[AnswerModel] = []


@cache
def _shipped() -> AnswerModel:
    return AnswerModel.from_dict(json.loads(PATH.read_text(encoding="utf-8")))


def current() -> AnswerModel:
    """The model in force: the shipped one, unless a holdout run swapped in one fitted without the
    group it scores."""
    return _override[-1] if _override else _shipped()


@contextmanager
def using(model: AnswerModel) -> Iterator[AnswerModel]:
    """Score with `model` inside the block (held-out evaluation)."""
    _override.append(model)
    try:
        yield model
    finally:
        _override.pop()
