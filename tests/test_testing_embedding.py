"""The unit tier's stand-in embedding: deterministic, normalised, and nearest to what shares its words."""
from __future__ import annotations

import numpy as np

from agent.testing.embedding import DIM, HashingEmbeddingFunction, hashed_ngrams


def test_vectors_are_deterministic_and_unit_length():
    texts = ["周末几点集合？", "Where do we meet on Saturday?", ""]
    a, b = hashed_ngrams(texts), hashed_ngrams(list(texts))
    assert a.shape == (3, DIM) and np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a[:2], axis=1), 1.0) and not a[2].any()  # empty text: the zero vector


def test_shared_words_are_nearer_than_unrelated_text():
    query, *docs = hashed_ngrams(["跑团周六早上几点集合", "周六早上七点在公园东门集合", "显卡驱动怎么回滚到旧版本"])
    assert query @ docs[0] > 0.3 > query @ docs[1]


def test_chroma_round_trips_the_function_by_name():
    ef = HashingEmbeddingFunction(dim=64)
    again = HashingEmbeddingFunction.build_from_config(ef.get_config())
    assert again.dim == 64 and np.array_equal(np.asarray(ef(["abc"])), np.asarray(again(["abc"])))
