"""Expansion: more of the likeliest article for the answerer to read, and headline-only stand-ins resolved to
their article's chunk closest to the question."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rag.records import Chunk
from rag.retrieval.candidates import Ranking
from rag.roles import ChunkReader


@dataclass(frozen=True)
class LeadConfig:
    """How many passages of the best article the answer reads: an answer often sits just past the passage
    that matched the question. 3 is what docs/benchmarks/realtimeqa-full-2026-11-27/report.md measured (answer
    accuracy 0.618; 0.591 and 0.609 with one and two, commit 1eab0ed), at about 20 ms more per answer than 2."""

    answer_reads: int = 3


class LeadPassages:
    """With ``lead_passages`` above 1, the best article's next-best passages follow its best one (on top of
    ``k``), while the ranking keeps one passage per article."""

    def run(self, ranking: Ranking) -> None:
        picked, lead = ranking.picked, ranking.query.lead_passages
        if lead <= 1 or not picked or picked[0].headline_only:
            return
        article, chosen = picked[0].article_id, {c.id for c in picked}
        more = [c for c in ranking.candidates
                if c.id not in chosen and not c.headline_only and c.article_id == article]
        picked[1:1] = more[: lead - 1]


class HeadlineLinks:
    """Each picked stand-in becomes its article's chunk closest to the question (with that cosine); one whose
    article has been deleted since the BM25 index was built is dropped."""

    def __init__(self, store: ChunkReader) -> None:
        self.store = store

    def run(self, ranking: Ranking) -> None:
        wanted = [c.article_id for c in ranking.picked if c.headline_only]
        if not wanted:
            return
        best = self._best_chunks(wanted, ranking.query.vector)
        resolved = []
        for candidate in ranking.picked:
            if candidate.headline_only:
                found = best.get(candidate.article_id)
                if found is None:
                    continue
                chunk, cosine = found
                ranking.dense[chunk.id] = cosine
                candidate = replace(candidate, chunk=chunk)
            resolved.append(candidate)
        ranking.picked = resolved

    def _best_chunks(self, article_ids: list[str], vector: np.ndarray) -> dict[str, tuple[Chunk, float]]:
        best: dict[str, tuple[Chunk, float]] = {}
        for aid, found in self.store.article_chunks(article_ids).items():
            if found:
                chunk, chunk_vector = max(found, key=lambda item: float(np.dot(vector, item[1])))
                best[aid] = (chunk, round(float(np.dot(vector, chunk_vector)), 6))
        return best
