"""The no-LLM reply: the sentences of the best passages that answer the question, quoted as written.

Quoting keeps numbers, times and names exactly as the operator wrote them, which is what members
need and what cannot be invented. Sentences are ranked by how much of the question they cover, then
put back in the passage's order so the reply still reads naturally.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from agent import patterns
from agent.kb import tables
from agent.kb.tokenize import content_tokens, corpus_counts, current_vocabulary, follows_vocabulary, normalize

_SENTENCE = patterns.compile(r"[^\n。！？；!?;]*[。！？；!?;]|[^\n。！？；!?;]+")  # or a line's unended rest
_FAQ_Q = patterns.compile(r"^\s*(?:[-*]\s*)?(?:\*\*)?\s*(?:Q\d*|问\d*|问题|question)\s*[：:].*?$", re.M | re.I)
_FAQ_A = patterns.compile(r"^\s*(?:\*\*)?\s*(?:A\d*|答\d*|答案|回答|answer)\s*[：:]\s*(?:\*\*)?\s*", re.M | re.I)
_MARKUP = patterns.compile(r"^\s*(?:[-*+]\s+|\d+[.、]\s*|#+\s*)|\*\*")


@dataclass(frozen=True)
class Unit:
    """A sentence, bullet line or table row of a passage, as quoted."""

    text: str
    table: int = -1  # the passage's n-th table this row belongs to; -1: not a table row
    header: tuple[str, ...] = ()  # a body row's column names (its table's first row)
    cells: tuple[str, ...] = ()


@lru_cache(maxsize=4096)  # a passage is split again for every question that retrieves it
def units(text: str) -> tuple[Unit, ...]:
    """A passage as sentences, bullet lines and table rows, markup removed, FAQ question lines dropped."""
    text = _FAQ_A.sub("", _FAQ_Q.sub("", text))
    out: list[Unit] = []
    table, header, in_table = -1, (), False
    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            cells = tuple(c.replace("**", "").strip() for c in tables.cells(line))
            if not in_table:
                table, header, in_table = table + 1, cells, True
                out.append(Unit("，".join(c for c in cells if c), table))
            elif cells:
                out.append(Unit("，".join(c for c in cells if c), table, header, cells))
            continue
        in_table = False
        for piece in _SENTENCE.findall(line):
            piece = _MARKUP.sub("", piece).strip()
            if len(piece) >= 2:
                out.append(Unit(piece))
    return tuple(u for u in out if len(u.text) >= 2)


def sentences(text: str) -> list[str]:
    """A passage as sentences and bullet lines, markup removed, FAQ question lines dropped."""
    return [u.text for u in units(text)]


def rarity(word: str) -> float:
    """log(total / count) in jieba's general corpus; unseen words are the rarest of all."""
    return _rarity(word, current_vocabulary())


@follows_vocabulary  # a word jieba learns gets a count of its own
@lru_cache(maxsize=65536)
def _rarity(word: str, words: frozenset[str]) -> float:
    freq, total = corpus_counts()
    return math.log(total / (freq.get(word) or 1))


@lru_cache(maxsize=65536)  # the knowledge's sentences come back with every question near them
def _bigrams(text: str) -> frozenset[str]:
    t = patterns.sub(r"\W+", "", normalize(text))
    return frozenset(t[i:i + 2] for i in range(len(t) - 1))


def coverage(question: str, passage: str) -> float:
    """Weighted share of the question's content words (or, failing words, its character pairs) in the
    passage. Words weigh by their rarity in general Chinese (jieba's corpus counts), so the subject of
    a question (停车位, 保证金) counts for more than the chat around it (万一, 那天)."""
    words = set(content_tokens(question))
    low = normalize(passage)
    if words:
        weights = {w: rarity(w) for w in words}
        return sum(weights[w] for w in words if w in low) / sum(weights.values())
    q = _bigrams(question)
    return len(q & _bigrams(passage)) / len(q) if q else 0.0


@dataclass(frozen=True)
class Extract:
    text: str
    score: float


def best_sentences(question: str, passage: str, limit: int, heading: str = "", whole_below: int = 160) -> Extract:
    """Up to `limit` sentences of `passage` that cover the question best, in the passage's order.

    A short passage (an FAQ answer, one paragraph) is quoted whole: cutting it loses the condition
    or the number next to the sentence that matched. A sentence is read with its section heading
    (under "报名方式", "提前3天截止" is about signing up). Sentences that carry the kind of answer
    asked for (an amount for "多少钱", a time for "几点") rank higher."""
    from agent.answering.checks import asked_types, gives_type

    parts = units(passage)
    sents = [u.text for u in parts]
    if not sents:
        return Extract("", 0.0)
    qb = _bigrams(question)
    typed = bool(asked_types(question))
    scored = []
    for i, s in enumerate(sents):
        words = coverage(question, f"{heading}\n{s}")
        pairs = len(qb & _bigrams(s)) / len(qb) if qb else 0.0
        bonus = 0.5 if typed and gives_type(question, s) else 0.0
        scored.append((words + 0.5 * pairs + bonus, i))
    whole = sum(len(s) for s in sents) <= whole_below
    scored.sort(reverse=True)
    top = scored[0][0]
    if whole:
        keep = list(range(len(sents)))
    else:
        keep = sorted(i for score, i in scored[:limit] if score > 0 and score >= 0.5 * top) or [scored[0][1]]
    latin = _latin(passage)
    keep, said = _one_row(question, keep, parts, latin)
    return Extract((" " if latin else "").join(_end(said.get(i, sents[i]), latin) for i in keep), top)


def _one_row(question: str, keep: list[int], parts: tuple[Unit, ...], latin: bool) -> tuple[list[int], dict[int, str]]:
    """Of a table quoted for a question that one of its rows answers clearly (the row holds at least
    twice the question's words any other row does), only that row, each cell named by its column: a
    member asking when Saturday's run starts gets Saturday's row, not the week. A question matching
    several rows, or none, keeps the table whole."""
    said: dict[int, str] = {}
    for table in {parts[i].table for i in keep if parts[i].table >= 0}:
        rows = [i for i, u in enumerate(parts) if u.table == table and u.header]
        score = {i: coverage(question, parts[i].text) for i in rows}
        best = max(rows, key=score.__getitem__, default=None)
        if best is None or score[best] <= 0 or any(score[i] * 2 > score[best] for i in rows if i != best):
            continue
        keep = [i for i in keep if parts[i].table != table or i == best] + ([] if best in keep else [best])
        colon = ": " if latin else "："
        named = [f"{h}{colon}{c}" for h, c in zip(parts[best].header, parts[best].cells) if c and h and c not in ("—", "-")]
        said[best] = ("; " if latin else "；").join(named) or parts[best].text
    return sorted(keep), said


def _latin(text: str) -> bool:
    """Mostly Latin letters: sentences are joined with spaces, not run together."""
    return sum(ch.isascii() and ch.isalpha() for ch in text) > 3 * sum("\u3400" <= ch <= "\u9fff" for ch in text)


_STOPS = ("。", "！", "？", ".", "!", "?")


def closed(text: str) -> str:
    """`text` ending with a full stop of its script when it ends with no mark ('；' and ';' dropped)."""
    text = text.rstrip("；;")
    return text if text.endswith(_STOPS) else text + ("." if _latin(text) else "。")


def _end(sentence: str, latin: bool = False) -> str:
    """Close a sentence whose source line had none (bullets): '；' in Chinese, ';' in English."""
    if sentence.endswith((*_STOPS, "；", ";")):
        return sentence
    return sentence + (";" if latin else "；")
