"""What the answerability model sees of one (question, passage) pair: a fixed vector of numbers.

Each feature is something that should carry over to a group the model never saw: how similar the
passage is (dense, and relative to the other passages retrieved), how it ranks lexically, how much
of the question's own words it holds, whether it gives the kind of answer asked for. Nothing here
names a topic. Lexical features only mean something when question and passage share a script, so a
cross-lingual pair is judged by `EMBEDDING_ONLY`, the features that survive translation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from agent.answering.checks import asked_types, gives_type, has_alternative, has_quoted
from agent.answering.compose import Extract, best_sentences, coverage
from agent.kb.tokenize import content_tokens

NAMES = ("dense", "lead", "behind_best", "rank", "dense_rank", "bm25_share", "bm25_rank",
         "lexical_coverage", "coverage", "focus_coverage", "sentence_score", "gives_type", "asks_type",
         "alternative", "quoted", "theme", "question_words")
# the features a multilingual embedding keeps meaningful across languages
EMBEDDING_ONLY = ("dense", "lead", "behind_best", "rank", "dense_rank", "theme", "question_words")


def script(text: str) -> str:
    """'zh' when Chinese characters are at least a third of the letters, else 'en' ('' if neither)."""
    cjk = sum("\u3400" <= ch <= "\u9fff" for ch in text)
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    if not cjk and not latin:
        return ""
    return "zh" if cjk * 3 >= latin else "en"


def cross_lingual(question: str, passage: str) -> bool:
    """The question and the passage are written in different languages: words cannot be compared."""
    q, p = script(question), script(passage)
    return bool(q and p and q != p)


@dataclass(frozen=True)
class Observed:
    """A candidate passage's features and the extract a no-LLM reply would quote."""

    values: tuple[float, ...]  # in NAMES order
    extract: Extract
    cross: bool
    gated: bool  # failed a cheap check: no answer of the asked kind, neither alternative, a quoted term


def observe(question: str, focus: str, hit, hits: list, max_sentences: int, whole_below: int,
            theme_similarity: float = 0.0) -> Observed:
    """Features of `hit` for `question` (its asking clauses: `focus`) among the retrieved `hits`."""
    body = f"{hit.heading}\n{hit.question}\n{hit.text}"
    extract = best_sentences(focus, hit.text, max_sentences, heading=hit.heading, whole_below=whole_below)
    others = [h.dense for h in hits if h is not hit]
    best = max(h.dense for h in hits)
    top_bm25 = max(h.bm25 for h in hits)
    by_dense = sorted(hits, key=lambda h: -h.dense)
    by_bm25 = sorted(hits, key=lambda h: -h.bm25)
    asks = bool(asked_types(focus))
    gives = gives_type(focus, extract.text) or gives_type(focus, body)
    alternative, quoted = has_alternative(focus, body), has_quoted(question, body)
    values = (
        hit.dense,
        hit.dense - max(others, default=0.0),
        hit.dense - best,
        _rank_score(hits.index(hit)),
        _rank_score(by_dense.index(hit)),
        hit.bm25 / top_bm25 if top_bm25 > 0 else 0.0,
        _rank_score(by_bm25.index(hit)) if hit.bm25 > 0 else 0.0,
        hit.lexical_coverage,
        coverage(question, body),
        coverage(focus, body),
        min(extract.score, 2.0),
        float(gives),
        float(asks),
        float(alternative),
        float(quoted),
        theme_similarity,
        math.log1p(len(content_tokens(focus))),
    )
    return Observed(values, extract, cross_lingual(question, body), not (gives and alternative and quoted))


def _rank_score(rank: int) -> float:
    """1 for the first, ½ for the second…: the step from first to second matters most."""
    return 1.0 / (1 + rank)
