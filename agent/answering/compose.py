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
from agent.kb.tokenize import content_tokens, corpus_counts, current_vocabulary, follows_vocabulary, normalize

_SENTENCE = patterns.compile(r"[^\n。！？；!?;]*[。！？；!?;]|[^\n。！？；!?;]+")  # or a line's unended rest
_FAQ_Q = patterns.compile(r"^\s*(?:[-*]\s*)?(?:\*\*)?\s*(?:Q\d*|问\d*|问题|question)\s*[：:].*?$", re.M | re.I)
_FAQ_A = patterns.compile(r"^\s*(?:\*\*)?\s*(?:A\d*|答\d*|答案|回答|answer)\s*[：:]\s*(?:\*\*)?\s*", re.M | re.I)
_MARKUP = patterns.compile(r"^\s*(?:[-*+]\s+|\d+[.、]\s*|#+\s*)|\*\*")


def _table_row(line: str) -> str:
    """'| 周二 | 19:30 | 间歇跑 |' → '周二，19:30，间歇跑'; separator rows vanish."""
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    return "" if all(patterns.fullmatch(r":?-{2,}:?", c) or not c for c in cells) else "，".join(c for c in cells if c)


def sentences(text: str) -> list[str]:
    """A passage as sentences and bullet lines, markup removed, FAQ question lines dropped."""
    text = _FAQ_A.sub("", _FAQ_Q.sub("", text))
    text = "\n".join(_table_row(l) if l.lstrip().startswith("|") else l for l in text.splitlines())
    out = []
    for piece in _SENTENCE.findall(text):
        piece = _MARKUP.sub("", piece).strip()
        if len(piece) >= 2:
            out.append(piece)
    return out


def rarity(word: str) -> float:
    """log(total / count) in jieba's general corpus; unseen words are the rarest of all."""
    return _rarity(word, current_vocabulary())


@follows_vocabulary  # a word jieba learns gets a count of its own
@lru_cache(maxsize=65536)
def _rarity(word: str, words: frozenset[str]) -> float:
    freq, total = corpus_counts()
    return math.log(total / (freq.get(word) or 1))


def _bigrams(text: str) -> set[str]:
    t = patterns.sub(r"\W+", "", normalize(text))
    return {t[i:i + 2] for i in range(len(t) - 1)}


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

    sents = sentences(passage)
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
    return Extract((" " if latin else "").join(_end(sents[i], latin) for i in keep), top)


def _latin(text: str) -> bool:
    """Mostly Latin letters: sentences are joined with spaces, not run together."""
    return sum(ch.isascii() and ch.isalpha() for ch in text) > 3 * sum("\u3400" <= ch <= "\u9fff" for ch in text)


def _end(sentence: str, latin: bool = False) -> str:
    """Close a sentence whose source line had none (bullets): '；' in Chinese, ';' in English."""
    if patterns.search(r"[。！？；!?;.]$", sentence):
        return sentence
    return sentence + (";" if latin else "；")
