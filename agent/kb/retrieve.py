"""Lexical side of hybrid retrieval and the fusion: BM25 over jieba tokens, IDF-weighted coverage,
weighted reciprocal rank fusion.

Dense similarity finds paraphrases; BM25 finds the exact numbers and names a paraphrase misses.
Their scores are on different scales, so they are fused by rank. The raw features are all kept on the
hit because the answer route calibrates its own confidence from them.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import bm25s
import numpy as np

from agent import patterns
from agent.kb.tokenize import content_tokens, normalize, tokens

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets itself to DEBUG on import

_MENTION = patterns.compile(r"@\S+?(?:[\u2005\s]|$)")
_WECHAT_EMOJI = patterns.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,6}\]")
_SYMBOLS = patterns.compile(r"[^\w\s,.?!:;，。？！：；、“”‘’\"'()（）《》\-+/%#×=]")


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    file: str
    scope: str
    heading: str
    question: str  # for FAQ chunks, else ""
    dense: float  # cosine similarity, clipped to 0..1
    bm25: float  # raw BM25 score (0 when no query word occurs)
    rrf: float  # fused score the hits are ordered by
    lexical_coverage: float  # IDF-weighted share of the question's content words found in the chunk



def clean_query(text: str) -> str:
    """Drop what a chat message carries besides the question: @mentions, [微笑]-style codes, emoji."""
    text = _MENTION.sub(" ", text)
    text = _WECHAT_EMOJI.sub(" ", text)
    return patterns.sub(r"\s+", " ", _SYMBOLS.sub(" ", text)).strip()


def index_terms(words: list[str]) -> list[str]:
    """BM25 terms: the words plus the characters of multi-character Chinese words, so 书 still finds
    书单 and 互推 finds 互推对接表 however jieba happened to cut either side."""
    chars = [ch for w in words if len(w) > 1 and _cjk(w[0]) for ch in w if _cjk(ch)]
    return words + chars


def _cjk(ch: str) -> bool:
    """A CJK ideograph: a range test, since a regular expression call per character cost most of an
    index build."""
    return "\u3400" <= ch <= "\u9fff"


def document_terms(document: str) -> list[str]:
    """What BM25 indexes of one document (a scope set keeps them per chunk between rebuilds)."""
    return index_terms(tokens(document)) or [""]


def fuse(rankings: list[tuple[list[int], float]], k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion: sum of weight / (k + rank) over the rankings a doc appears in."""
    fused: dict[int, float] = {}
    for order, weight in rankings:
        for rank, doc in enumerate(order, start=1):
            fused[doc] = fused.get(doc, 0.0) + weight / (k + rank)
    return fused


class LexicalIndex:
    """BM25 and coverage over a fixed list of documents (heading + text), built once per chunk set.
    `terms`: each document's document_terms, when the caller has them already."""

    def __init__(self, documents: list[str], terms: list[list[str]] | None = None):
        self.texts = [normalize(d) for d in documents]
        self._bm25 = bm25s.BM25()
        corpus = terms if terms is not None else [document_terms(d) for d in documents]
        if corpus:
            self._bm25.index(corpus, show_progress=False)
        self._df: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.texts)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        if not self.texts or not query_tokens:
            return np.zeros(len(self.texts), dtype=np.float32)
        return self._bm25.get_scores(index_terms(query_tokens))

    def idf(self, token: str) -> float:
        """IDF by substring occurrence, matching how coverage tests a token (jieba may cut a
        chunk's 群发次数 differently from a question's 群发)."""
        df = self._df.get(token)
        if df is None:
            df = self._df[token] = sum(token in t for t in self.texts)
        n = len(self.texts)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def coverage(self, query_tokens: list[str], doc: int) -> float:
        unique = list(dict.fromkeys(query_tokens))
        if not unique:
            return 0.0
        weights = [self.idf(t) for t in unique]
        found = sum(w * _found(t, self.texts[doc]) for t, w in zip(unique, weights))
        return found / sum(weights)


def _found(token: str, text: str) -> float:
    """1 if the token occurs; for a longer Chinese token that does not, the share of its character
    pairs that do (jieba reads 能开发票 as 能/开发票, the knowledge says 开电子发票)."""
    if token in text:
        return 1.0
    if len(token) < 3 or not _cjk(token[0]):
        return 0.0
    pairs = [token[i:i + 2] for i in range(len(token) - 1)]
    return sum(p in text for p in pairs) / len(pairs)


def query_tokens(text: str) -> list[str]:
    """BM25 query: the content words only, so chatty 请问/怎么/呀 do not match every FAQ question."""
    return list(content_tokens(clean_query(text)))
