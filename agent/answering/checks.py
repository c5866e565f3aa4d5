"""Cheap checks that a passage can give the kind of answer a question asks for.

An on-topic question the knowledge cannot answer usually shares the passage's subject but not the
asked-for thing: "沙龙有停车位吗" retrieves the salon's details, which have no parking. Two such checks
are cheap and general: the answer type (a price needs an amount, "几点" needs a time) and, for
"A还是B" questions, one of the alternatives.
"""
from __future__ import annotations

import re
from functools import lru_cache

from agent import patterns
from agent.answering.questions import cues
from agent.kb.tokenize import normalize

_ALTERNATIVE = patterns.compile(r"([\u4e00-\u9fa5A-Za-z0-9]{1,6})还是([\u4e00-\u9fa5A-Za-z0-9]{1,6})")
_FILLER = patterns.compile(r"^(是|在|用|放|做)|(做|比较好|好|的|呢|啊)+$")


@lru_cache(maxsize=1)
def _types() -> dict[str, tuple[patterns.Pattern, patterns.Pattern]]:
    spec = cues()["answer_types"]
    return {k: (patterns.compile(v["ask"], re.I), patterns.compile(v["has"], re.I)) for k, v in spec.items()}


@lru_cache(maxsize=4096)  # asked of each sentence of each passage judged for the question
def asked_types(question: str) -> tuple[str, ...]:
    return tuple(name for name, (ask, _) in _types().items() if ask.search(question))


def gives_type(question: str, passage: str) -> bool:
    """False when the question asks for a kind of answer (a price, a time…) the passage lacks.
    Several kinds asked ("几点…多少钱"): one given is enough, the rest may be in another passage."""
    kinds = asked_types(question)
    if not kinds:
        return True
    return any(_types()[k][1].search(passage) for k in kinds)


def has_alternative(question: str, passage: str) -> bool:
    """For 'A还是B' questions: the passage must mention A or B."""
    found = _ALTERNATIVE.search(question)
    if not found:
        return True
    low = normalize(passage)
    options = [_FILLER.sub("", o) for o in found.groups()]
    return any(len(o) >= 1 and o in low for o in options)


_QUOTED = patterns.compile(r"[“\"「『]([^”\"」』]{1,12})[”\"」』]")


def has_quoted(question: str, passage: str) -> bool:
    """Terms the member put in quotes (“最”, 「震惊」) are what they ask about: the passage must have them."""
    low = normalize(passage)
    return all(normalize(t) in low for t in _QUOTED.findall(question))
