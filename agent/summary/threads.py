"""Chat grouped into threads by meaning, and the one message that best stands for each thread.

Extractive on purpose: without a model the summary can only quote, and with one the model is given
these extracts and nothing else, so neither can put words in a member's mouth. Threads come from
average-linkage clustering of the message embeddings (scikit-learn); a message far in time from the
rest of its cluster still joins it, since a topic picked up again after lunch is the same topic.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Embed = Callable[[list[str]], np.ndarray]

# cosine distance under which two messages are on one topic: the encoder puts paraphrases near 0.3 and
# unrelated chat above 0.6; a cut between keeps replies with their question without merging the day
DISTANCE = 0.55


@dataclass(frozen=True)
class Thread:
    members: tuple[int, ...]  # indices into the texts given, in time order
    central: int  # the member most similar to the others: the thread's line in the summary


def threads(texts: Sequence[str], embed: Embed | None, distance: float = DISTANCE) -> list[Thread]:
    """Threads of `texts`, largest first (ties: earliest first). Without an embedding, one thread per run
    of consecutive messages is all that can be said, so every message is its own thread."""
    n = len(texts)
    if n == 0:
        return []
    if embed is None or n == 1:
        return [Thread((i,), i) for i in range(n)]
    from sklearn.cluster import AgglomerativeClustering  # deferred: only on request, never per message

    vectors = np.asarray(embed(list(texts)), dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1.0, norms)
    labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                     distance_threshold=distance).fit_predict(vectors)
    found = []
    for label in set(labels.tolist()):
        idx = tuple(int(i) for i in np.flatnonzero(labels == label))
        sims = vectors[list(idx)] @ vectors[list(idx)].T
        found.append(Thread(idx, idx[int(np.argmax(sims.sum(axis=1)))]))
    return sorted(found, key=lambda t: (-len(t.members), t.members[0]))
