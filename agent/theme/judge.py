"""Off-topic judgement: how a message sits relative to its group's world, weighed by a fitted model.

The group's world is its theme, the on-topic part of its description, the owner's on-topic examples
and its knowledge; the other side is the off-topic part of the description, the owner's off-topic
examples and a background of everyday chat in many topics (offtopic_seeds.yaml, minus the seeds that
resemble the group's world; the topics the description names as off-topic are also measured apart).
A message is measured against both (embedding similarities, the share of chatter among its nearest
anchors, how many of its words the knowledge and the description use, its length and shape), and a
logistic model turns the measures into a probability; a second stage adds that probability for the
talk just before it, so a short reply takes the topic of the talk it answers. Both are fitted on
pooled labelled groups (bench/fit_theme.py → offtopic_fit.json, numbers only): hand-set margins
fitted to one group did not hold on the next.
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
_LIST_TAIL = patterns.compile(r"等\W?(?:和|与|跟)?.*(?:无关|不相关).*$|\s*\b(?:unrelated|not related) to\b.*$", re.I)
_LABEL_SPLIT = patterns.compile(r"[\s/]+")
_CODES = patterns.compile(r"\[[^\[\]]{1,6}\]|@\S+\s?")


@lru_cache(maxsize=1)
def background() -> list[tuple[str, str, str]]:
    """(topic, its label, a sentence) for every seed of every topic, both languages."""
    topics = yaml.safe_load(Path(__file__).with_name("offtopic_seeds.yaml").read_text(encoding="utf-8"))["topics"]
    return [(name, t["label"], s) for name, t in topics.items() for lang in ("zh", "en") for s in t[lang]]


def describe(group: GroupConfig) -> tuple[list[str], list[str]]:
    """Split the description into on-topic and off-topic phrases (clauses and their list items)."""
    on, off = [group.theme], []
    # the stdlib (lookbehind) is safe here: the description is the owner's configuration
    for clause in re.split(r"[。\n]|(?<=[.!?])\s", group.description):
        clause = clause.strip()
        if len(clause) < 2 or _VIOLATION_CUE.search(clause):
            continue
        body = clause.split("：", 1)[-1].split(":", 1)[-1]
        if _OFF_CUE.search(clause):  # the list, without its closing "…等和<theme>无关的闲聊"
            body = _LIST_TAIL.sub("", body)
        items = [i.strip() for i in _ITEM_SPLIT.split(body) if len(i.strip()) >= 2 and not _OFF_CUE.search(i)]
        (off if _OFF_CUE.search(clause) else on).extend([body if _OFF_CUE.search(clause) else clause, *items])
    return on, off


# measures of the message alone, then of the talk just before it (the first stage's probability of
# the previous messages): a short reply takes the topic of the talk it answers
ALONE = ("on", "kb_top", "kb_max", "off_desc", "declared", "seed", "seed_top", "near_bg", "kb_words",
         "theme_words", "length", "question", "peer", "media")
CONTEXT = ("before", "last")
FEATURES = ALONE + CONTEXT
NEIGHBOURS = 10  # near_bg: the share of chatter among the message's nearest anchors
DECLARED = 0.6  # a background topic with a label word this close to an off-topic item of the description
DRIFT_MESSAGES = 3  # the talk just before: up to this many messages …
DRIFT_MINUTES = 15  # … from this recent
FIT = Path(__file__).with_name("offtopic_fit.json")
_HELD_OUT: list[str] = []  # while scoring a labelled group honestly: use the weights fitted without it
_MEDIA = patterns.compile(r"\[(图片|视频|文件|链接|小程序|名片|语音|位置|image|photo|video|file|link)\]", re.I)


def pairs(z: np.ndarray) -> np.ndarray:
    """The standardised measures and their pairwise products: how near chatter a message sits matters
    more for a question than for a remark, and more when the knowledge holds nothing near it."""
    i, j = np.triu_indices(z.shape[-1], k=1)
    return np.concatenate([z, z[..., i] * z[..., j]], axis=-1)


@dataclass(frozen=True)
class Stage:
    """A logistic model over some measures, standardised, with their pairwise products (standardised
    again)."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    pair_mean: np.ndarray
    pair_scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def load(cls, names: tuple[str, ...], fit: dict) -> "Stage":
        return cls(names, *(np.asarray(fit[k], dtype=np.float64)
                            for k in ("mean", "scale", "pair_mean", "pair_scale", "coef")), float(fit["intercept"]))

    def probability(self, m: dict[str, float]) -> float:
        x = np.array([m[f] for f in self.names], dtype=np.float64)
        z = float(((pairs((x - self.mean) / self.scale) - self.pair_mean) / self.pair_scale) @ self.coef + self.intercept)
        return float(1.0 / (1.0 + np.exp(-z)))


@dataclass(frozen=True)
class Weights:
    """The two fitted stages, and the probability from which the second says off-topic."""

    alone: Stage
    context: Stage
    threshold: float


def weights(held_out: str | None = None) -> Weights:
    """The shipped fit, or the one fitted without `held_out` (default: the group `holding_out` names)."""
    return _weights(held_out if held_out is not None else (_HELD_OUT[-1] if _HELD_OUT else ""))


@lru_cache(maxsize=8)
def _weights(key: str) -> Weights:
    data = json.loads(FIT.read_text(encoding="utf-8"))
    fit = data["without"].get(key, data["all"])
    return Weights(Stage.load(ALONE, fit["alone"]), Stage.load(FEATURES, fit["context"]), float(fit["threshold"]))


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
    lean: float  # > 0: nearer chatter than the group's world (shown in logs)
    measures: dict[str, float]


def _top(sims: np.ndarray, k: int) -> float:
    """The mean of the k largest (all of them if fewer), 0 for none."""
    if not len(sims):
        return 0.0
    k = min(k, len(sims))
    return float(np.partition(sims, len(sims) - k)[-k:].mean())


class ThemeJudge:
    """Scores messages for one group. Rebuilt when the group's knowledge changes."""

    MEMO = 512  # measures kept per judge: the talk before a message is measured again for the next ones

    def __init__(self, group: GroupConfig, knowledge: list[str], ids: list[str] | None = None,
                 seed_overlap: float = 0.45):
        self.group = group
        on, off = describe(group)
        on += group.on_topic_examples
        off += group.off_topic_examples
        self.on_vecs = embed(on)
        dim = self.on_vecs.shape[1]
        self.kb_vecs = embed(knowledge) if knowledge else np.zeros((0, dim), np.float32)
        self.kb_words = frozenset(w for passage in knowledge for w in content_tokens(passage))
        self.theme_words = frozenset(w for phrase in on for w in content_tokens(phrase))
        self.off_vecs = embed(off) if off else np.zeros((0, dim), np.float32)
        bank = background()
        seed_vecs = embed([s for _, _, s in bank])
        world = np.vstack([self.on_vecs, self.kb_vecs])
        keep = (seed_vecs @ world.T).max(axis=1) < seed_overlap
        self.seed_vecs = seed_vecs[keep]
        # the background topics the description itself names as off-topic (by a word of their label)
        words = sorted({(label, w) for _, label, _ in bank for w in _LABEL_SPLIT.split(label) if w})
        named = set()
        if len(self.off_vecs):
            sims = (embed([w for _, w in words]) @ self.off_vecs.T).max(axis=1)
            named = {label for (label, _), x in zip(words, sims) if x >= DECLARED}
        self.declared = np.flatnonzero([label in named for (_, label, _), k in zip(bank, keep) if k])
        # nearest-anchor vote: world anchors 0, chatter anchors 1
        # (one product per message: on, knowledge, off-topic items and background seeds, in this order)
        self.anchor_vecs = np.vstack([world, self.off_vecs, self.seed_vecs])
        self.anchor_bg = np.r_[np.zeros(len(world)), np.ones(len(self.off_vecs) + len(self.seed_vecs))]
        ends = np.cumsum([len(self.on_vecs), len(self.kb_vecs), len(self.off_vecs), len(self.seed_vecs)])
        self._parts = tuple(slice(a, b) for a, b in zip((0, *ends[:-1]), ends))
        self.theme_vecs = embed([t for t in (group.theme, group.description) if t])
        self._memo: dict[str, dict[str, float]] = {}
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
        """The measures of the message alone: how it sits between the group's world and chatter, and
        its shape. One embedding of the message (shared with the other routes through the cache)."""
        if text in self._memo:
            return self._memo[text]
        body = _CODES.sub(" ", text).strip() or text
        anchors = self.anchor_vecs @ embed([body])[0]
        on, kb, off, seeds = (anchors[part] for part in self._parts)
        k = min(NEIGHBOURS, len(anchors))
        nearest = np.argpartition(anchors, len(anchors) - k)[-k:]
        words = content_tokens(body)
        q = shape(body)
        m = {
            "on": _top(on, 1), "kb_top": _top(kb, 3), "kb_max": _top(kb, 1), "off_desc": _top(off, 1),
            "declared": _top(seeds[self.declared], 1),
            "seed": _top(seeds, 1), "seed_top": _top(seeds, 3),
            "near_bg": float(self.anchor_bg[nearest].mean()),
            "kb_words": sum(w in self.kb_words for w in words) / len(words) if words else 0.0,
            "theme_words": sum(w in self.theme_words for w in words) / len(words) if words else 0.0,
            "length": float(np.log1p(len(content(body)))),
            "question": float(q.is_question), "peer": float(q.opinion or (q.is_question and not q.seeks_fact)),
            "media": float(bool(_MEDIA.search(text))),
        }
        if len(self._memo) >= self.MEMO:
            self._memo.clear()
        self._memo[text] = m
        return m

    def alone(self, text: str) -> float:
        """The first stage: the probability of off-topic from the message alone."""
        return weights().alone.probability(self.measure(text))

    def judge(self, text: str, before: list[str] = ()) -> Judgement:
        """`before`: the texts of the talk just before (see DRIFT_*), oldest first."""
        m = dict(self.measure(text))
        prior = [self.alone(t) for t in before]
        m["before"] = float(np.mean(prior)) if prior else 0.0
        m["last"] = prior[-1] if prior else 0.0
        lean = max(m["seed"], m["off_desc"]) - max(m["on"], m["kb_top"])
        return Judgement(weights().context.probability(m), lean, m)

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
