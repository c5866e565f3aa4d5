"""The knowledge base: files → chunks → Chroma (incremental by content hash), searched hybrid."""
from agent.kb.embeddings import USEEmbeddingFunction, embed
from agent.kb.retrieve import Hit
from agent.kb.store import KnowledgeBase, SyncReport

__all__ = ["Hit", "KnowledgeBase", "SyncReport", "USEEmbeddingFunction", "embed"]
