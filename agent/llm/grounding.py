"""Whether a model's answer stands on the passages it cites.

The prompt asks the model to cite the knowledge file it answers from. An answer that cites none of
the passages it was given, whose content words are mostly not in the passages it cites, or that adds
nothing to the member's own words, is not an answer from the knowledge: a model echoing its prompt,
inventing, or repeating the question. The quoted passage is sent instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from agent import patterns
from agent.kb.tokenize import content_tokens, normalize

SUPPORT = 0.6  # share of an answer's content words that its cited passages must hold
# a negation flips a passage's words into the opposite answer ("不用换" from "换"): each one the
# reply says, the negator with the word it negates, must be the passages' too
_NEGATED_ZH = patterns.compile(r"[不没无别未勿非][\u4e00-\u9fff]")
_COURTESY = ("不用担心", "别担心", "不客气", "不用谢", "不好意思")  # negate nothing the passages say
_NEGATED_EN = patterns.compile(r"\b(?:not|no|never|cannot|can't|don't|doesn't|won't|isn't|aren't)\s+[a-z]+")
# where a citation starts: (来源：faq.md), (source: faq.md)
_CITE = patterns.compile(r"(?:来源|出处|出自|参考|引用|依据|sources?|ref(?:erence)?s?)\s*[:：]")


@dataclass(frozen=True)
class Passage:
    file: str  # as the prompt labels it: [file] heading
    heading: str
    text: str


def text_of(passages: list[Passage]) -> str:
    return "\n\n".join(f"[{p.file}] {p.heading}\n{p.text}" for p in passages)


def _names(passage: Passage) -> tuple[str, str]:
    name = PurePosixPath(passage.file).name.lower()
    return name, PurePosixPath(name).stem


def cited(reply: str, passages: list[Passage]) -> list[Passage]:
    """The passages whose file the reply names: its full name anywhere, or its stem after a
    citation word ("来源：events")."""
    low = normalize(reply)
    mark = _CITE.search(low)
    tail = low[mark.start():] if mark else ""
    out = []
    for passage in passages:
        name, stem = _names(passage)
        if name in low or (len(stem) >= 3 and stem in tail):
            out.append(passage)
    return out


def _body(reply: str, passages: list[Passage]) -> str:
    """The reply without its citation: what it says rather than where it says it is from."""
    low = normalize(reply)
    for passage in passages:
        for name in _names(passage):
            low = low.replace(name, " ")
    return _CITE.sub(" ", low)


def unsupported(reply: str, cited: list[Passage], question: str) -> str | None:
    """Why the reply does not stand on the passages it cites, or None."""
    words = set(content_tokens(_body(reply, cited)))
    if not words:
        return "says nothing but its citation"
    known = normalize(text_of(cited))
    held = {w for w in words if w in known}
    if len(held) / len(words) < SUPPORT:
        unheld = sorted(words - held)
        return f"not supported by its sources ({len(held)}/{len(words)} words; e.g. {unheld[0]!r})"
    asked = normalize(question)
    if all(w in asked for w in held):
        return "adds nothing to the member's words"
    body = normalize(_body(reply, cited))
    for phrase in _COURTESY:
        body = body.replace(phrase, " ")
    for negation in _NEGATED_ZH.findall(body) + _NEGATED_EN.findall(body):
        if negation not in known:
            return f"not supported by its sources (negation {negation!r})"
    return None
