"""A calibrated confidence that the knowledge answers the question, from the retrieval features.

A retrieval score alone barely tells answerable from unanswerable (fused ranks carry no confidence,
and dense similarity is high for anything on the theme). What separates them is whether the best
passage contains the question's own content words: an unanswerable on-topic question shares the
theme but not its specific subject. The logistic form keeps the output in 0..1 so one threshold in
settings means the same thing for every group.
"""
from __future__ import annotations

import math

# weights of the logistic model over (dense similarity, content-word coverage, answer-sentence coverage)
WEIGHTS = (4.0, 5.0, 2.0)
BIAS = -6.0


def confidence(dense: float, coverage: float, sentence_coverage: float) -> float:
    z = BIAS + WEIGHTS[0] * dense + WEIGHTS[1] * coverage + WEIGHTS[2] * sentence_coverage
    return 1.0 / (1.0 + math.exp(-z))
