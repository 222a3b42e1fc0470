"""Candidate sources: dense vectors (Chroma), BM25 over passages, BM25 over headlines. Each adds its hits to
the ranking; fusion combines the passage lists, the headline list feeds the title bonus."""

from __future__ import annotations

from rag.retrieval.candidates import Ranking
from rag.roles import ChunkReader


class DenseSource:
    """Nearest chunks by cosine similarity."""

    def __init__(self, store: ChunkReader) -> None:
        self.store = store

    def run(self, ranking: Ranking) -> None:
        query = ranking.query
        hits = self.store.query(query.vector.tolist(), query.fetch, query.filters)
        ranking.passage_lists.append([p.chunk.id for p in hits])
        ranking.chunks.update({p.chunk.id: p.chunk for p in hits})
        ranking.dense.update({p.chunk.id: p.scores["dense"] for p in hits})


class Bm25Passages:
    """Best chunks by BM25 (stemmed words of title and text)."""

    def run(self, ranking: Ranking) -> None:
        query = ranking.query
        hits = ranking.lexical().search(query.text, query.fetch, query.filters)
        ranking.passage_lists.append([cid for cid, _ in hits])
        ranking.bm25.update(dict(hits))


class Bm25Headlines:
    """Best articles by BM25 over their headlines alone (a headline is the article's own summary)."""

    def run(self, ranking: Ranking) -> None:
        query = ranking.query
        ranking.titles = ranking.lexical().search_titles(query.text, query.fetch, query.filters)
