"""jieba tokens for BM25 and for judging whether a passage covers a question.

One jieba tokenizer per process, initialised quietly on first use. Its dictionary grows with the
words a knowledge base brings (settings' `kb.domain_words` and terms mined from the files), because
plain jieba splits 公众号 into 公众/号 and so misses exact domain matches. Cached results that depend
on those words register with `follows_vocabulary` and are dropped whenever the words change, and
`forget_words` starts over from jieba's own dictionary: an app built from one group's folder alone
(the eval's sandbox) must not cut words the way a group read before it taught.
"""
from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Callable
from pathlib import Path

import jieba
from agent import patterns

_HERE = Path(__file__).parent
_WORD = patterns.compile(r"\w", re.UNICODE)
_CJK = patterns.compile(r"[\u4e00-\u9fff]")
_lock = threading.Lock()
_added: set[str] = set()
_dependents: list[Callable[[], None]] = []


def follows_vocabulary(cached):
    """Register an lru-cached function whose results depend on the words jieba knows."""
    _dependents.append(cached.cache_clear)
    return cached


def _vocabulary_changed() -> None:
    for clear in _dependents:
        clear()


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
        _vocabulary_changed()  # cuts and word counts read with the smaller dictionary are stale
    return new


def forget_words() -> None:
    """Back to jieba's own dictionary (about 0.5 s to load again)."""
    with _lock:
        _tokenizer.cache_clear()
        _added.clear()
    _vocabulary_changed()


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC) and lower case, so 'ＧＩＦ' and 'gif' match."""
    return unicodedata.normalize("NFKC", text).lower()


def _cut(text: str) -> list[str]:
    return [t for t in _tokenizer().lcut(normalize(text)) if _WORD.search(t)]


def tokens(text: str) -> list[str]:
    """Word tokens without punctuation, emoji, whitespace and stopwords."""
    stop = stopwords()
    return [t for t in _cut(text) if t not in stop]


@follows_vocabulary
@functools.lru_cache(maxsize=8192)
def content_tokens(text: str) -> tuple[str, ...]:
    """The words a passage must contain to answer `text`: tokens minus question words (cached: the
    answer route asks for the same question's words once per candidate sentence)."""
    asks = question_words()
    return tuple(t for t in tokens(text) if t not in asks)
