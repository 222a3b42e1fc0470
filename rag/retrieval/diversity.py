"""Diversity: the candidates in rank order, at most ``per_page`` from one page, ``k`` readable passages."""

from __future__ import annotations

from dataclasses import dataclass

from rag.retrieval.candidates import Candidate, Ranking


@dataclass(frozen=True)
class DiversityConfig:
    """One passage per page: the list is what the reader sees as sources and what the answerer picks
    sentences from, and five passages from five articles beat two pairs and a single. Measured with it:
    docs/benchmarks/realtimeqa-full-2026-11-27/report.md (R@5 0.945; the switch itself was R@5 +0.009 on the
    full corpus, commit 58b4c9e)."""

    per_page: int = 1


class Order:
    """Sorts the candidates best first (``Candidate.order``); runs before diversity."""

    def run(self, ranking: Ranking) -> None:
        ranking.candidates.sort(key=Candidate.order)


class OnePerPage:
    """The first ``k`` candidates with at most ``per_page`` per page; when fewer pages than that are found (a
    small corpus), the rest are filled with the picked articles' next-best chunks, in rank order. A headline-only
    link ranked among them is kept but does not count: the ``k`` are the passages an answer can read."""

    def __init__(self, config: DiversityConfig) -> None:
        self.config = config

    def run(self, ranking: Ranking) -> None:
        k, per_page = ranking.query.k, self.config.per_page
        picked: list[Candidate] = []
        taken: dict[str, int] = {}
        readable = 0
        for candidate in ranking.candidates:
            page = candidate.page
            if taken.get(page, 0) < per_page:
                taken[page] = taken.get(page, 0) + 1
                picked.append(candidate)
                readable += candidate.readable
                if readable == k:
                    ranking.picked = picked
                    return
        chosen = {c.id for c in picked}
        articles = {c.article_id for c in picked if not c.headline_only}
        # Stand-ins have no chunk candidates, so these are all chunks of articles already picked.
        for candidate in ranking.candidates:
            if candidate.id not in chosen and not candidate.headline_only and candidate.article_id in articles:
                picked.append(candidate)
                readable += candidate.readable
                if readable == k:
                    break
        ranking.picked = picked
