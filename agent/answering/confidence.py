"""A calibrated confidence that a passage answers the question: the fitted model over its features.

A retrieval score alone barely tells answerable from unanswerable: dense similarity is high for
anything on the theme. The model (agent/answering/model.py, fitted by agent/answering/calibrate.py on
labelled groups) weighs similarity, its lead over the other passages, lexical rank and coverage, and
whether the passage gives the kind of answer asked for. Its output is shifted at fitting so that 0.5
is the fitted cut between answering and "don't know": `retrieval.answer_threshold` (0.5) reads the
same for every group, and raising it makes the bot more cautious.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.answering import model
from agent.answering.compose import Extract
from agent.answering.features import Observed, observe

if TYPE_CHECKING:
    from agent.kb.retrieve import Hit

# A passage this close to the group's theme and description is the group's self-description: it
# resembles every on-topic question without answering any of them, so it keeps only a fifth of its
# confidence whatever the fitted model says (the model saw too few such passages to learn it).
RESTATES_THEME = 0.7
RESTATED_KEEPS = 0.2
# a runner-up this close in confidence to the best passage is quoted with it: the judge cannot tell
# which of the two answers (set, not fitted; calibration decides the cut knowing it)
TIE = 0.05


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    observed: Observed
    confidence: float

    @property
    def extract(self) -> Extract:
        return self.observed.extract

    @property
    def gated(self) -> bool:
        return self.observed.gated


def judge(question: str, focus: str, hits: list, considered: int, max_sentences: int, whole_below: int,
          theme_similarity: Callable[[object], float] = lambda hit: 0.0) -> list[Candidate]:
    """The first `considered` hits scored, most confident first. The fused top-1 is not always the
    passage that holds the answer, so several are judged."""
    fitted = model.current()
    out = []
    for hit in hits[:considered]:
        restating = theme_similarity(hit)
        seen = observe(question, focus, hit, hits, max_sentences, whole_below, restating)
        p = fitted.probability(seen.values, seen.cross)
        out.append(Candidate(hit, seen, p * RESTATED_KEEPS if restating >= RESTATES_THEME else p))
    return sorted(out, key=lambda c: c.confidence, reverse=True)
