"""The learned judge of message content: ad / scam / abuse / injection vs none.

Two linear models, their class probabilities averaged (BLEND):
- over hashed character 1–3-grams of the normalised text and the syllables they are read as (TF-IDF
  weighted) plus a few structural features. Character n-grams are used, not words, because spam is
  written to dodge word lists and Chinese has no spaces to split on; syllables make a homophone read as
  the word it stands for. It knows the wording of its training data well and little beyond it;
- over the multilingual sentence embedding of the same text (agent.kb.embeddings, 512-d): it knows
  what a message is about whatever its words, so it carries to ads and frauds phrased unlike anything
  in training (measured on public sets: see README), at the cost of more false alarms on its own.
Hashing keeps the shipped file small and free of a vocabulary; the weights live in a plain .npz (no
pickle: loading runs no code) that `steward train moderation` rebuilds. Scoring one message costs a few
hundred hash lookups, one sparse dot product and one embedding (about a millisecond). The exact checks in
front (links, QR codes, cards, handles, flood) do the rest.
"""
from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from agent import patterns
from agent.bounds import head_and_tail
from agent.moderation import cues
from agent.moderation.text import fold
from agent.textnorm import lexicon

MODEL_PATH = Path(__file__).with_name("model.npz")
CLASSES = ("none", "ad", "scam", "abuse", "injection")
BITS = 18
NGRAMS = (1, 2, 3)
_SPACE = patterns.compile(r"\s+")
_URLISH = patterns.compile(r"https?://|www\.|\b[a-z0-9-]+\.(com|cn|net|org|io|me|cc|top|xyz|vip)\b")
_CARD = patterns.compile(r"\[(名片|个人名片|小程序|链接|link|contact card|mini program)\]")
_MENTION = patterns.compile(r"^@|\s@")
READ_CHARS = 1_000  # the model reads a longer message on its head and tail (4,000 characters cost 0.3 s)
DENSE = ("link", "contact", "handle", "card", "mention", "price", "digits", "latin", "length")


def normal(text: str) -> str:
    """The text the model reads: the normalised view (agent.textnorm) with runs of space as one."""
    return _SPACE.sub(" ", fold(text)).strip()


def grams(text: str, sounds: bool = True) -> dict[int, int]:
    """Hashed n-gram counts of normalised text (crc32: stable across runs and machines): character
    1–3-grams, and with `sounds` the readings of its Chinese characters, one and two syllables at a time
    (薇信, 威信 and 微信 all sound "wei xin": a homophone written to dodge a word list reads the same)."""
    counts: dict[int, int] = {}
    mask = (1 << BITS) - 1
    padded = f" {text} "
    for n in NGRAMS:
        for i in range(len(padded) - n + 1):
            g = padded[i:i + n]
            if n > 1 and g.isspace():
                continue
            h = zlib.crc32(g.encode("utf-8")) & mask
            counts[h] = counts.get(h, 0) + 1
    if sounds:
        reading = lexicon.readings()
        sounds = [reading[c] for c in text if c in reading]
        for g in sounds + [f"{a} {b}" for a, b in zip(sounds, sounds[1:])]:
            h = zlib.crc32(f"\x01{g}".encode()) & mask  # tagged: a syllable never shares a bucket key with a Latin gram
            counts[h] = counts.get(h, 0) + 1
    return counts


def dense(text: str) -> list[float]:
    """Structural features, each in 0..1: what the words alone miss (a handle, a link, a card)."""
    compact = text.replace(" ", "")
    n = max(len(compact), 1)
    t = SimpleNamespace(compact=compact, folded=text)  # what cues.hit reads
    return [
        float(bool(_URLISH.search(text))),
        float(cues.hit(cues.CONTACT, t)),
        float(cues.hit(cues.HANDLE, t)),
        float(bool(_CARD.search(text))),
        float(bool(_MENTION.search(text))),
        float(cues.hit(cues.PRICE, t)),
        sum(c.isdigit() for c in compact) / n,
        sum("a" <= c <= "z" for c in compact) / n,
        min(math.log1p(n) / math.log(400), 1.0),
    ]


BLEND = 0.5  # weight of the n-gram model's probabilities against the embedding model's (set, not fitted)


def embedding(norm: str) -> np.ndarray:
    """The sentence embedding the second model reads: of the normalised text, as trained."""
    from agent.kb.embeddings import embed

    return embed([norm or " "])[0]


def embeddings(texts: list[str], chunk: int = 256) -> np.ndarray:
    """Embeddings of many normalised texts, in chunks of similar length (a batch pads to its longest)."""
    from agent.kb.embeddings import DIM, embed

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for start in range(0, len(order), chunk):
        idx = order[start:start + chunk]
        out[idx] = embed([texts[i] or " " for i in idx])
    return out


def _softmax(logits: np.ndarray) -> np.ndarray:
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Model:
    """Fitted weights: idf per hash bucket, one row of coefficients per class, thresholds per class;
    and, when fitted with it, the embedding model's coefficients."""

    idf: np.ndarray  # (2**BITS,)
    weights: np.ndarray  # (2**BITS + len(DENSE), classes): one row per feature, so a message reads few rows
    intercept: np.ndarray  # (classes,)
    thresholds: dict[str, float]
    meta: dict
    embed_weights: np.ndarray | None = None  # (512, classes)
    embed_intercept: np.ndarray | None = None  # (classes,)

    def gram_probs(self, norm: str) -> np.ndarray:
        """The n-gram model's class probabilities for normalised text."""
        counts = grams(norm, self.meta.get("sounds", False))  # a model fitted before syllables reads without them
        idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        vals = tf * self.idf[idx]
        vals /= max(float(np.sqrt((vals ** 2).sum())), 1e-12)
        return _softmax(vals @ self.weights[idx] + np.asarray(dense(norm)) @ self.weights[-len(DENSE):] + self.intercept)

    def embed_probs(self, vectors: np.ndarray) -> np.ndarray:
        """The embedding model's class probabilities for (N, 512) vectors."""
        return _softmax(vectors.astype(np.float64) @ self.embed_weights + self.embed_intercept)

    def scores(self, text: str) -> dict[str, float]:
        """Class probabilities for one message."""
        return self.scores_normal(normal(text))

    def scores_normal(self, norm: str) -> dict[str, float]:
        """Class probabilities for text already normalised (the detectors hold it: Text.folded)."""
        norm = _SPACE.sub(" ", norm).strip()
        norm = head_and_tail(norm, READ_CHARS, " ")  # a pitch shows in its head or tail; the middle only costs time
        p = self.gram_probs(norm)
        if self.embed_weights is not None:
            p = BLEND * p + (1 - BLEND) * self.embed_probs(embedding(norm)[None, :])[0]
        return dict(zip(CLASSES, map(float, p)))

    def verdict(self, text: str) -> tuple[str, float] | None:
        """(kind, probability) of the likeliest violation class above its threshold, else None."""
        s = self.scores(text)
        kind = max(CLASSES[1:], key=s.__getitem__)
        return (kind, s[kind]) if s[kind] >= self.thresholds.get(kind, 0.5) else None

    def save(self, path: Path) -> None:
        extra = {} if self.embed_weights is None else {"embed_weights": self.embed_weights.astype(np.float32),
                                                       "embed_intercept": self.embed_intercept.astype(np.float32)}
        np.savez_compressed(path, idf=self.idf.astype(np.float32), weights=self.weights.astype(np.float32),
                            intercept=self.intercept.astype(np.float32), **extra,
                            info=np.frombuffer(json.dumps({"thresholds": self.thresholds, "meta": self.meta},
                                                          ensure_ascii=False).encode(), dtype=np.uint8))

    @classmethod
    def load(cls, path: Path) -> "Model":
        with np.load(path, allow_pickle=False) as z:
            info = json.loads(bytes(z["info"]).decode())
            embedded = "embed_weights" in z.files
            return cls(z["idf"].astype(np.float64), z["weights"].astype(np.float64), z["intercept"].astype(np.float64),
                       info["thresholds"], info["meta"],
                       z["embed_weights"].astype(np.float64) if embedded else None,
                       z["embed_intercept"].astype(np.float64) if embedded else None)


@lru_cache(maxsize=1)
def shipped() -> Model:
    """The model that ships in the package (rebuilt by `steward train moderation`)."""
    return Model.load(MODEL_PATH)
