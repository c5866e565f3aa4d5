"""A calibrated confidence that a passage answers the question, from retrieval and coverage features.

A retrieval score alone barely tells answerable from unanswerable: dense similarity is high for
anything on the theme. What separates them is whether the passage holds the question's own subject
(its content words, above all those of the asking clause) and the kind of answer asked for. The
weights were set on the development group and are deliberately few and round; the logistic form
keeps the output in 0..1 so `retrieval.answer_threshold` reads the same for every group.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from agent.answering.checks import gives_type, has_alternative, has_quoted
from agent.answering.compose import Extract, best_sentences, coverage

# logistic weights over (dense similarity, coverage of the message's content words, coverage of the
# best sentences, lead of this passage's similarity over the runner-up). The lead matters most after
# similarity itself: an answerable question has one passage clearly about it, an unanswerable one
# brushes several passages of the same theme about equally. BIAS puts the 0.5 point where few
# unanswerable questions pass.
WEIGHTS = (6.0, 1.0, 1.0, 6.0)
BIAS = -3.9
SCALE = 3.0
GATE_PENALTY = 0.2  # a passage lacking the asked-for kind of answer keeps a fifth of its confidence
RESTATES_THEME = 0.7  # a passage this similar to the group's theme/description is its self-description


@dataclass(frozen=True)
class Candidate:
    hit: object  # agent.kb.retrieve.Hit
    extract: Extract
    confidence: float
    gated: bool  # failed a check: no answer of the asked kind, neither alternative, a quoted term
    # missing, or the passage merely restates the group's theme


def lead(hit, hits: list) -> float:
    """How far this passage's similarity is ahead of the best other passage (negative if behind)."""
    others = [h.dense for h in hits if h is not hit]
    return hit.dense - max(others, default=0.0)


def score(question: str, focus: str, hit, hits: list, max_sentences: int, theme_similarity: float = 0.0) -> Candidate:
    body = f"{hit.heading}\n{hit.question}\n{hit.text}"
    extract = best_sentences(focus, hit.text, max_sentences, heading=hit.heading)
    z = BIAS + sum(w * f for w, f in zip(WEIGHTS, (
        hit.dense, coverage(question, body), extract.score, lead(hit, hits))))
    conf = 1.0 / (1.0 + math.exp(-SCALE * z))
    gated = not (gives_type(focus, extract.text) and has_alternative(focus, body) and has_quoted(question, body))
    gated = gated or theme_similarity >= RESTATES_THEME
    return Candidate(hit, extract, conf * GATE_PENALTY if gated else conf, gated)
