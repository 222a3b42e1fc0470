"""Fusion: the passage sources' rankings combined by reciprocal rank, and the candidates only BM25 found
filled in from the store (their date and article rank them; their vectors give their dense scores)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.retrieval.candidates import Candidate, Ranking
from rag.roles import ChunkReader


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


@dataclass(frozen=True)
class FusionConfig:
    """How fusion weighs ranks and how many BM25-only candidates it fills in.

    ``rrf_k`` (``NEWSDESK_RRF_K``, 60) is the constant of Cormack et al.'s RRF paper, kept because the
    RealTime QA runs in docs/benchmarks/realtimeqa-full-2026-11-27/report.md (R@5 0.945, MRR 0.789) were made
    with it. ``fill_per_k``: without a date or headline matches to re-rank them, only the best
    ``k x fill_per_k x per_page`` BM25-only candidates are fetched from the store (each costs a read); with
    either, all are, since a date or headline bonus can lift any of them.
    """

    rrf_k: int = 60
    fill_per_k: int = 2
    per_page: int = 1


class RrfFusion:
    """The passage lists fused into candidates scored by RRF."""

    def __init__(self, store: ChunkReader, config: FusionConfig) -> None:
        self.store = store
        self.config = config

    def run(self, ranking: Ranking) -> None:
        query, config = ranking.query, self.config
        ranking.fused = fused = rrf(ranking.passage_lists, config.rrf_k)
        only_bm25 = [cid for cid in fused if cid not in ranking.chunks]
        if not (query.asked_on or ranking.titles):
            only_bm25 = sorted(only_bm25, key=lambda cid: -fused[cid])[: query.k * config.fill_per_k * config.per_page]
        for cid, (chunk, vector) in self.store.get_chunks(only_bm25, with_vectors=True).items():
            ranking.chunks[cid] = chunk
            ranking.dense[cid] = round(float(np.dot(query.vector, vector)), 6)
        ranking.candidates = [
            Candidate(cid, chunk.article_id, chunk.published_at, chunk, fused[cid])
            for cid, chunk in ranking.chunks.items()
            if cid in fused  # a chunk deleted since the BM25 index was built is not in the store's answer
        ]
