"""The knowledge base: files → chunks → Chroma (incremental by content hash), searched hybrid.

The names below load on first use (PEP 562): importing a submodule such as agent.kb.cli or
agent.kb.ingest must not pull in Chroma and the embedding model, or `steward --help` takes seconds.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.kb.embeddings import USEEmbeddingFunction, embed
    from agent.kb.retrieve import Hit
    from agent.kb.store import KnowledgeBase
    from agent.kb.sync import SyncReport

_HOMES = {"Hit": "agent.kb.retrieve", "KnowledgeBase": "agent.kb.store", "SyncReport": "agent.kb.sync",
          "USEEmbeddingFunction": "agent.kb.embeddings", "embed": "agent.kb.embeddings"}
__all__ = ["Hit", "KnowledgeBase", "SyncReport", "USEEmbeddingFunction", "embed"]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
