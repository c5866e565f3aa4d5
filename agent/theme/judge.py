"""Off-topic judgement: how a message sits relative to its group's world, weighed by a fitted model.

The group's world is its theme, the on-topic part of its description, the owner's on-topic examples
and its knowledge; the other side is the off-topic part of the description, the owner's off-topic
examples and generic life-chatter seeds (minus those that resemble the group's world). A message is
measured against both (embedding similarities, how many of its words the knowledge uses, its length
and shape, and the lean of the talk just before it), and a logistic model fitted on pooled labelled
groups (bench/fit_theme.py → offtopic_fit.json, numbers only) turns the measures into a probability.
Hand-set margins fitted to one group did not hold on the next.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from agent import patterns
from agent.answering.questions import shape
from agent.kb.embeddings import embed
from agent.kb.tokenize import content_tokens
from agent.settings import GroupConfig
from agent.theme.glue import content

# description clauses that list what is NOT on topic, or what is a violation (not a theme matter)
_OFF_CUE = patterns.compile(r"(不在题内|不属于|跑题|无关|不相关|off[- ]topic|not on[- ]topic|unrelated)", re.I)
_VIOLATION_CUE = patterns.compile(r"(违规|禁止|不允许|不要发|forbidden|not allowed|banned|violation)", re.I)
_ITEM_SPLIT = patterns.compile(r"[、，,；;：:/（）()]|等|以及|和|or\b|and\b")
_CODES = patterns.compile(r"\[[^\[\]]{1,6}\]|@\S+\s?")


@lru_cache(maxsize=1)
def _seeds() -> dict[str, list[str]]:
    return yaml.safe_load(Path(__file__).with_name("offtopic_seeds.yaml").read_text(encoding="utf-8"))


def describe(group: GroupConfig) -> tuple[list[str], list[str]]:
    """Split the description into on-topic and off-topic phrases (clauses and their list items)."""
    on, off = [group.theme], []
    # the stdlib (lookbehind) is safe here: the description is the owner's configuration
    for clause in re.split(r"[。\n]|(?<=[.!?])\s", group.description):
        clause = clause.strip()
        if len(clause) < 2 or _VIOLATION_CUE.search(clause):
            continue
        body = clause.split("：", 1)[-1].split(":", 1)[-1]
        items = [i.strip() for i in _ITEM_SPLIT.split(body) if len(i.strip()) >= 2]
        (off if _OFF_CUE.search(clause) else on).extend([clause, *items])
    return on, off


FEATURES = ("on", "kb_top", "off_desc", "seed", "seed_top", "kb_words", "length", "question", "drift")
DRIFT_MESSAGES = 3  # the talk just before: up to this many messages …
DRIFT_MINUTES = 15  # … from this recent
FIT = Path(__file__).with_name("offtopic_fit.json")
_HELD_OUT: list[str] = []  # while scoring a labelled group honestly: use the weights fitted without it


@dataclass(frozen=True)
class Weights:
    """A standardised logistic model over FEATURES, and the probability from which it says off-topic."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float

    def probability(self, x: np.ndarray) -> float:
        z = float(((x - self.mean) / self.scale) @ self.coef + self.intercept)
        return float(1.0 / (1.0 + np.exp(-z)))


def weights(held_out: str | None = None) -> Weights:
    """The shipped fit, or the one fitted without `held_out` (default: the group `holding_out` names)."""
    return _weights(held_out if held_out is not None else (_HELD_OUT[-1] if _HELD_OUT else ""))


@lru_cache(maxsize=8)
def _weights(key: str) -> Weights:
    data = json.loads(FIT.read_text(encoding="utf-8"))
    fit = data["without"].get(key, data["all"])
    return Weights(*(np.asarray(fit[k], dtype=np.float64) for k in ("mean", "scale", "coef")),
                   float(fit["intercept"]), float(fit["threshold"]))


@contextmanager
def holding_out(others: list[str]) -> Iterator[None]:
    """Within: the weights fitted without the one shipped-fit group missing from `others` (the eval's
    held-out group). A group the fit never saw has no such entry and is judged by the shipped fit."""
    fitted_without = json.loads(FIT.read_text(encoding="utf-8"))["without"]
    missing = [g for g in fitted_without if g not in others]
    _HELD_OUT.append(missing[0] if len(missing) == 1 else "")
    try:
        yield
    finally:
        _HELD_OUT.pop()


@dataclass(frozen=True)
class Judgement:
    probability: float  # of being off-topic, from the fitted model
    lean: float  # > 0: nearer chatter than the group's world (shown in logs, and the drift of later talk)
    measures: dict[str, float]


class ThemeJudge:
    """Scores messages for one group. Rebuilt when the group's knowledge changes."""

    def __init__(self, group: GroupConfig, knowledge: list[str], ids: list[str] | None = None,
                 seed_overlap: float = 0.45):
        self.group = group
        on, off = describe(group)
        on += group.on_topic_examples
        off += group.off_topic_examples
        self.on_vecs = embed(on)
        self.kb_vecs = embed(knowledge) if knowledge else np.zeros((0, self.on_vecs.shape[1]), np.float32)
        self.kb_words = frozenset(w for passage in knowledge for w in content_tokens(passage))
        seeds = _seeds().get(group.language, []) + (_seeds()["en"] if group.language != "en" else [])
        seed_vecs = embed(seeds)
        world = np.vstack([self.on_vecs, self.kb_vecs])
        keep = (seed_vecs @ world.T).max(axis=1) < seed_overlap
        self.off_vecs = embed(off) if off else np.zeros((0, world.shape[1]), np.float32)
        self.seed_vecs = seed_vecs[keep]
        self.seeds_dropped = [s for s, k in zip(seeds, keep) if not k]
        self.theme_vecs = embed([t for t in (group.theme, group.description) if t])
        self._restates: dict[str, float] = {}
        if ids and len(self.kb_vecs):
            sims = (self.kb_vecs @ self.theme_vecs.T).max(axis=1)
            self._restates = {cid: float(x) for cid, x in zip(ids, sims)}

    def theme_similarity(self, key: str, text: str) -> float:
        """How closely a passage restates the group's theme and description (cached per passage id).
        Such a passage resembles every on-topic question without answering any of them."""
        if key not in self._restates:
            self._restates[key] = float((embed([text])[0] @ self.theme_vecs.T).max())
        return self._restates[key]

    def measure(self, text: str) -> dict[str, float]:
        """Everything but the drift: how the message sits between the group's world and chatter."""
        body = _CODES.sub(" ", text).strip() or text
        vec = embed([body])[0]
        on = float((self.on_vecs @ vec).max()) if len(self.on_vecs) else 0.0
        kb_top = float(np.sort(self.kb_vecs @ vec)[-3:].mean()) if len(self.kb_vecs) else 0.0
        seed_sims = np.sort(self.seed_vecs @ vec) if len(self.seed_vecs) else np.zeros(1)
        words = content_tokens(body)
        return {
            "on": on, "kb_top": kb_top,
            "off_desc": float((self.off_vecs @ vec).max()) if len(self.off_vecs) else 0.0,
            "seed": float(seed_sims[-1]), "seed_top": float(seed_sims[-3:].mean()),
            "kb_words": sum(w in self.kb_words for w in words) / len(words) if words else 0.0,
            "length": float(np.log1p(len(content(body)))),
            "question": float(shape(body).is_question),
        }

    def lean(self, text: str) -> float:
        m = self.measure(text)
        return max(m["seed"], m["off_desc"]) - max(m["on"], m["kb_top"])

    def judge(self, text: str, before: list[str] = ()) -> Judgement:
        """`before`: the texts of the talk just before (see DRIFT_*)."""
        m = self.measure(text)
        m["drift"] = float(np.mean([self.lean(t) for t in before])) if before else 0.0
        p = weights().probability(np.array([m[f] for f in FEATURES]))
        lean = max(m["seed"], m["off_desc"]) - max(m["on"], m["kb_top"])
        return Judgement(p, lean, m)

    def is_offtopic(self, text: str, before: list[str] = (), shift: float = 0.0) -> bool:
        return bool(self.judge(text, before).probability >= cutoff(shift))


def cutoff(shift: float = 0.0) -> float:
    """The probability from which a message is off-topic: the fitted threshold plus the group's
    margin (positive: fewer messages judged off-topic)."""
    return weights().threshold + shift


def recent_texts(message_ts, recent) -> list[str]:
    """The talk just before a message, from the pipeline's (Message, Decision) window."""
    window = timedelta(minutes=DRIFT_MINUTES)
    return [m.text for m, _ in list(recent)[-DRIFT_MESSAGES:] if message_ts - m.ts <= window]
