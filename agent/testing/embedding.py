"""A small deterministic embedding for the unit tier: hashed character n-grams → a fixed-size vector.

Tests that exercise the knowledge base's plumbing (sync, add, remove, search wiring, commands) need
vectors that are stable and that make a text most similar to itself and to texts sharing its words,
not the offline encoder's judgement of meaning. This one costs microseconds and loads no model.
Texts that share no character n-gram are near-orthogonal; a text is always nearest to itself.
"""
from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

DIM = 256
NGRAMS = (1, 2, 3)


def hashed_ngrams(texts: list[str], dim: int = DIM) -> np.ndarray:
    """(N, dim) float32, L2-normalised: each n-gram of each text adds ±1 to the bucket its crc32 picks."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for row, text in enumerate(texts):
        text = " ".join(text.lower().split())
        for n in NGRAMS:
            for i in range(len(text) - n + 1):
                h = zlib.crc32(text[i:i + n].encode("utf-8"))
                out[row, h % dim] += 1.0 if (h >> 16) & 1 else -1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out /= np.where(norms == 0, 1.0, norms)
    return out


@register_embedding_function
class HashingEmbeddingFunction(EmbeddingFunction[Documents]):
    """chromadb wrapper around `hashed_ngrams`, registered so a collection built with it round-trips."""

    def __init__(self, dim: int = DIM):
        self.dim = dim

    def __call__(self, input: Documents) -> Embeddings:
        return list(hashed_ngrams(list(input), self.dim))

    @staticmethod
    def name() -> str:
        return "qun-steward-test-hashing"

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "HashingEmbeddingFunction":
        return HashingEmbeddingFunction(dim=config.get("dim", DIM))

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "ip", "l2"]
