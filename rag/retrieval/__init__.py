"""Hybrid retrieval as a list of stages over typed candidates (docs/architecture.md, "Retrieval stages").

sources (dense, BM25 passages, BM25 headlines) → fusion (RRF) → adjusters (title bonus, date prior) → order →
diversity (one per page) → expansion (lead passages, headline-only links) → passages.
"""

from rag.retrieval.hybrid import HybridRetriever, default_stages

__all__ = ["HybridRetriever", "default_stages"]
