"""On-topic score of a message: how much closer it sits to the group's own world than to life chatter.

The group's world is its theme, the on-topic part of its description, the owner's on-topic examples
and its knowledge; the other side is the off-topic part of the description, the owner's off-topic
examples and generic life-chatter seeds (minus those that resemble the group's world). A message is
off-topic only when it is clearly nearer the second; single words that appear in the knowledge pull it
back, so a domain question never reads as chatter.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from agent import patterns
from agent.kb.embeddings import embed
from agent.settings import GroupConfig

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


@dataclass(frozen=True)
class Judgement:
    score: float  # > 0: nearer chatter than the group's world
    on: float
    off: float


class ThemeJudge:
    """Scores messages for one group. Rebuilt when the group's knowledge changes."""

    def __init__(self, group: GroupConfig, knowledge: list[str], ids: list[str] | None = None,
                 seed_overlap: float = 0.45):
        on, off = describe(group)
        on += group.on_topic_examples
        off += group.off_topic_examples
        self.on_vecs = embed(on)
        self.kb_vecs = embed(knowledge) if knowledge else np.zeros((0, self.on_vecs.shape[1]), np.float32)
        seeds = _seeds().get(group.language, []) + (_seeds()["en"] if group.language != "en" else [])
        seed_vecs = embed(seeds)
        world = np.vstack([self.on_vecs, self.kb_vecs])
        keep = (seed_vecs @ world.T).max(axis=1) < seed_overlap
        self.off_vecs = np.vstack([embed(off) if off else np.zeros((0, world.shape[1]), np.float32), seed_vecs[keep]])
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

    def judge(self, text: str) -> Judgement:
        body = _CODES.sub(" ", text).strip() or text
        vec = embed([body])[0]
        on = float((self.on_vecs @ vec).max()) if len(self.on_vecs) else 0.0
        if len(self.kb_vecs):
            top = np.sort(self.kb_vecs @ vec)[-3:]
            on = max(on, float(top.mean()))
        off = float((self.off_vecs @ vec).max()) if len(self.off_vecs) else 0.0
        return Judgement(score=off - on, on=on, off=off)
