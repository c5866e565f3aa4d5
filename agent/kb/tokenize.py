"""jieba tokens for BM25 and for judging whether a passage covers a question.

Plain jieba splits 公众号 into 公众/号 and so misses exact domain matches, so the words a knowledge
base brings are taught to it. Two kinds, kept apart: settings' `kb.domain_words` go into the one
process-wide tokenizer (`add_words`); the terms mined from a group's files (headings, bold, quotes)
belong to that group's knowledge only. Each set of such words has its own tokenizer, which reads
jieba's dictionary through and keeps only its own additions (a few kilobytes, not a copy), and
`vocabulary(words)` says which one the code running now cuts with: the search index for its scope
set, the pipeline for the group a message is from. So one group's knowledge never changes how
another group's text is cut, in one process serving many groups as in the eval's sandboxes.
Cached results that depend on the words key on the vocabulary in force, or register with
`follows_vocabulary` to be dropped when the shared words change.
"""
from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import jieba
from agent import patterns

_HERE = Path(__file__).parent
_WORD = patterns.compile(r"\w", re.UNICODE)
_CJK = patterns.compile(r"[\u4e00-\u9fff]")
_lock = threading.Lock()
_added: set[str] = set()
_dependents: list[Callable[[], None]] = []
_words: ContextVar[frozenset[str]] = ContextVar("vocabulary", default=frozenset())


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
    """jieba's general-language word counts and their total: how common a word is outside any group
    (a knowledge word counts as jieba was taught it, in the vocabulary in force)."""
    tok = _tokenizer_for(_words.get())
    return tok.FREQ, tok.total


def add_words(words) -> int:
    """Teach the shared tokenizer the operator's domain words (settings' `kb.domain_words`, for every
    group; idempotent); returns how many were new. Only `learnable` ones."""
    tok = _tokenizer()
    new = 0
    with _lock:
        for word in sorted(learnable(words) - _added):
            tok.add_word(word)
            _added.add(word)
            new += 1
    if new:
        _vocabulary_changed()  # cuts and word counts read with the smaller dictionary are stale
    return new


def learnable(words: Iterable[str]) -> frozenset[str]:
    """The words worth teaching jieba, as it will see them: normalised, two characters or more, with
    Chinese in them (jieba keeps Latin runs whole anyway, and a Latin word in its dictionary ("the")
    would cut other words apart ("there" → "the" + "re"))."""
    return frozenset(w for w in (normalize(word).strip() for word in words) if len(w) >= 2 and _CJK.search(w))


@contextmanager
def vocabulary(words: frozenset[str]) -> Iterator[None]:
    """Cut with these knowledge words (from `learnable`) in this block, on this thread or task."""
    token = _words.set(words)
    try:
        yield
    finally:
        _words.reset(token)


def current_vocabulary() -> frozenset[str]:
    return _words.get()


@follows_vocabulary  # the shared dictionary changed (or was forgotten): read it through afresh
@functools.lru_cache(maxsize=256)  # a few kilobytes each: one per group an operator runs
def _tokenizer_for(words: frozenset[str]) -> jieba.Tokenizer:
    """jieba's dictionary (with the shared words) read through, plus `words`: its additions land in
    a dictionary of its own at the front of a ChainMap, so the shared one is neither copied nor touched."""
    base = _tokenizer()
    if not words:
        return base
    tok = jieba.Tokenizer()
    tok.FREQ, tok.total, tok.initialized = ChainMap({}, base.FREQ), base.total, True
    for word in sorted(words):  # sorted: the counts jieba suggests for each do not depend on set order
        tok.add_word(word)
    return tok


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC) and lower case, so 'ＧＩＦ' and 'gif' match."""
    return unicodedata.normalize("NFKC", text).lower()


def _cut(text: str) -> list[str]:
    return [t for t in _tokenizer_for(_words.get()).lcut(normalize(text)) if _WORD.search(t)]


def tokens(text: str) -> list[str]:
    """Word tokens without punctuation, emoji, whitespace and stopwords."""
    stop = stopwords()
    return [t for t in _cut(text) if t not in stop]


def content_tokens(text: str) -> tuple[str, ...]:
    """The words a passage must contain to answer `text`: tokens minus question words (cached: the
    answer route asks for the same question's words once per candidate sentence)."""
    return _content_tokens(text, _words.get())


@follows_vocabulary
@functools.lru_cache(maxsize=8192)
def _content_tokens(text: str, words: frozenset[str]) -> tuple[str, ...]:
    asks = question_words()
    return tuple(t for t in tokens(text) if t not in asks)
