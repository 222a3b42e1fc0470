"""Hybrid retrieval: dense (Chroma) + BM25, fused by reciprocal rank, with filters applied to both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from rag.embedder import MiniLMEmbedder
from rag.lexical import LexicalIndex
from rag.records import Chunk, Passage
from rag.settings import Settings
from rag.store import Filters, Store


def rrf(rankings: list[list[str]], constant: int) -> dict[str, float]:
    """Reciprocal-rank fusion: each list adds 1 / (constant + rank) to its items (rank from 1).

    >>> sorted(rrf([["a", "b"], ["b", "c"]], 60).items())
    [('a', 0.01639), ('b', 0.03252), ('c', 0.01613)]
    """
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (constant + rank)
    return {item: round(score, 5) for item, score in fused.items()}


class HybridRetriever:
    """Dense and BM25 candidates, fused, at most ``per_article`` passages from any one article."""

    def __init__(
        self,
        settings: Settings,
        embedder: MiniLMEmbedder,
        store: Store,
        lexical: Callable[[], LexicalIndex],
        per_article: int = 2,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.lexical = lexical
        self.per_article = per_article

    def search(self, query: str, k: int | None = None, filters: Filters = Filters()) -> list[Passage]:
        """The ``k`` best passages for ``query``, each with dense, bm25 and fused scores."""
        k = k or self.settings.k
        # Over-fetch: the two retrievers overlap, and the per-article cap discards some candidates.
        fetch = max(k * self.settings.fetch_factor, 20)
        vector = self.embedder.embed_query(query)
        dense = self.store.query(vector, fetch, filters)
        lexical = self.lexical().search(query, fetch, filters)
        fused = rrf([[p.chunk.id for p in dense], [cid for cid, _ in lexical]], self.settings.rrf_k)

        chunks: dict[str, Chunk] = {p.chunk.id: p.chunk for p in dense}
        dense_scores = {p.chunk.id: p.scores["dense"] for p in dense}
        bm25_scores = dict(lexical)
        ranked = sorted(fused, key=lambda cid: (-fused[cid], cid))
        missing = [cid for cid in ranked if cid not in chunks][: k * 2 * self.per_article]
        if missing:
            found = self.store.get_chunks(missing, with_vectors=True)
            for cid, (found_chunk, chunk_vector) in found.items():
                chunks[cid] = found_chunk
                dense_scores[cid] = round(float(np.dot(vector, chunk_vector)), 6)

        passages: list[Passage] = []
        per_article: dict[str, int] = {}
        for cid in ranked:
            chunk = chunks.get(cid)
            if chunk is None or per_article.get(chunk.article_id, 0) >= self.per_article:
                continue
            per_article[chunk.article_id] = per_article.get(chunk.article_id, 0) + 1
            scores = {
                "fused": fused[cid],
                "dense": dense_scores.get(cid, 0.0),
                "bm25": round(bm25_scores.get(cid, 0.0), 4),
            }
            passages.append(Passage(chunk, scores))
            if len(passages) == k:
                break
        return passages


class NewsdeskRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain ``BaseRetriever``, for use in other LangChain code."""

    search_fn: Any
    k: int = 5
    filters: Filters = Filters()

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [to_document(p) for p in self.search_fn(query, self.k, self.filters)]


def to_document(passage: Passage) -> Document:
    """A passage as a LangChain ``Document`` (metadata carries ids, offsets and scores)."""
    chunk = passage.chunk
    return Document(
        page_content=chunk.text,
        id=chunk.id,
        metadata={
            "article_id": chunk.article_id,
            "title": chunk.title,
            "url": chunk.url,
            "source": chunk.source,
            "published_at": chunk.published_at,
            "start": chunk.start,
            "end": chunk.end,
            **passage.scores,
        },
    )
