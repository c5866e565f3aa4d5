"""Owners' natural commands, read by resemblance to per-intent paraphrase banks.

Patterns written while reading one group's commands did not hold on the next group: owners phrase the
same instruction in endless ways. The banks (paraphrases.yaml, zh and en, written for groups of every
kind) are embedded with the multilingual model, and a message is read as the intent whose paraphrases
it resembles most — only when that resemblance reaches a threshold and beats the `none` bank (questions,
chatter, thanks) by a margin. Both figures are fitted on pooled labelled groups (bench/fit_commands.py)
and live in bank_fit.json; they are the only numbers here.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from agent.kb.embeddings import embed

BANK = Path(__file__).with_name("paraphrases.yaml")
FIT = Path(__file__).with_name("bank_fit.json")
NONE = "none"
TOP = 2  # an intent's score: the mean of its best TOP resemblances (one stray paraphrase cannot win alone)


@dataclass(frozen=True)
class Reading:
    intent: str  # the best intent other than none (whose arguments are present, see `best`)
    score: float
    none: float  # the best resemblance to non-commands
    ranked: tuple[tuple[str, float], ...] = ()  # every intent but none, best first

    def best(self, fits: Callable[[str], bool]) -> Reading:
        """The best intent that `fits` (e.g. schedule_add only when a time is named)."""
        for intent, score in self.ranked:
            if fits(intent):
                return replace(self, intent=intent, score=score)
        return replace(self, intent=NONE, score=0.0)

    def is_command(self, threshold: float, margin: float) -> bool:
        return self.score >= threshold and self.score - self.none >= margin


class IntentBank:
    """The embedded banks, both languages together (an owner may write either in any group)."""

    def __init__(self, phrases: dict[str, list[str]]):
        self.intents = list(phrases)
        self.vectors = {intent: embed(texts) for intent, texts in phrases.items()}

    def read(self, text: str) -> Reading:
        vec = embed([text])[0]
        scores = {intent: float(np.sort(v @ vec)[-TOP:].mean()) for intent, v in self.vectors.items()}
        none = scores.pop(NONE)
        ranked = tuple(sorted(scores.items(), key=lambda x: -x[1]))
        return Reading(ranked[0][0], ranked[0][1], none, ranked)


def load_phrases(path: Path = BANK) -> dict[str, list[str]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: 0.8 s → 0.1 s here
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    return {intent: [p for lang in ("zh", "en") for p in by_lang.get(lang, [])] for intent, by_lang in data.items()}


@lru_cache(maxsize=1)
def bank() -> IntentBank:
    return IntentBank(load_phrases())


@lru_cache(maxsize=1)
def fitted() -> tuple[float, float]:
    """(threshold, margin) as last fitted."""
    data = json.loads(FIT.read_text(encoding="utf-8"))
    return data["threshold"], data["margin"]
