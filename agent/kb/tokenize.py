"""jieba tokens for BM25 and for judging whether a passage covers a question.

One jieba tokenizer per process, initialised quietly on first use. Its dictionary grows with the
words a knowledge base brings (settings' `kb.domain_words` and terms mined from the files), because
plain jieba splits 公众号 into 公众/号 and so misses exact domain matches.
"""
from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from pathlib import Path

import jieba
from agent import patterns

_HERE = Path(__file__).parent
_WORD = patterns.compile(r"\w", re.UNICODE)
_CJK = patterns.compile(r"[\u4e00-\u9fff]")
_lock = threading.Lock()
_added: set[str] = set()


def _wordlist(name: str) -> frozenset[str]:
    lines = (_HERE / name).read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


@functools.cache
def stopwords() -> frozenset[str]:
    return _wordlist("stopwords.txt")


@functools.cache
def question_words() -> frozenset[str]:
    return _wordlist("question_words.txt")


@functools.cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


def corpus_counts() -> tuple[dict[str, int], int]:
    """jieba's general-language word counts and their total: how common a word is outside any group."""
    tok = _tokenizer()
    return tok.FREQ, tok.total


def add_words(words) -> int:
    """Teach jieba domain words (idempotent); returns how many were new. Only words with Chinese in
    them: jieba keeps Latin runs whole anyway, and a Latin word in its dictionary ("the") would cut
    other words apart ("there" → "the" + "re")."""
    tok = _tokenizer()
    new = 0
    with _lock:
        for word in words:
            word = normalize(word).strip()
            if len(word) >= 2 and _CJK.search(word) and word not in _added:
                tok.add_word(word)
                _added.add(word)
                new += 1
    if new:
        content_tokens.cache_clear()  # cuts made with the smaller dictionary are stale
    return new


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC) and lower case, so 'ＧＩＦ' and 'gif' match."""
    return unicodedata.normalize("NFKC", text).lower()


def _cut(text: str) -> list[str]:
    return [t for t in _tokenizer().lcut(normalize(text)) if _WORD.search(t)]


def tokens(text: str) -> list[str]:
    """Word tokens without punctuation, emoji, whitespace and stopwords."""
    stop = stopwords()
    return [t for t in _cut(text) if t not in stop]


@functools.lru_cache(maxsize=8192)
def content_tokens(text: str) -> tuple[str, ...]:
    """The words a passage must contain to answer `text`: tokens minus question words (cached: the
    answer route asks for the same question's words once per candidate sentence)."""
    asks = question_words()
    return tuple(t for t in tokens(text) if t not in asks)
