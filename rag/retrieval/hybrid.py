"""The hybrid retriever: a question's vector and BM25 index handed to each stage in turn, then passages."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rag.filters import Filters
from rag.lexical import LexicalIndex
from rag.records import Chunk, Passage
from rag.retrieval.adjusters import DatePrior, DatePriorConfig, TitleBonus, TitleBonusConfig
from rag.retrieval.candidates import Query, Ranking, Stage
from rag.retrieval.diversity import DiversityConfig, OnePerPage, Order
from rag.retrieval.expansion import HeadlineLinks, LeadPassages
from rag.retrieval.fusion import FusionConfig, RrfFusion
from rag.retrieval.sources import Bm25Headlines, Bm25Passages, DenseSource
from rag.retrieval.stories import OneStory
from rag.roles import ChunkReader, Embedder, StoryMap
from rag.settings import Settings

MIN_FETCH = 20  # each source returns at least this many: the per-page cap and the fusion discard some


def default_stages(settings: Settings, store: ChunkReader, stories: StoryMap | None = None) -> list[Stage]:
    """newsdesk's retrieval, in order. A reranker is one more stage (after ``Order``, before ``OnePerPage``, or
    after ``HeadlineLinks`` to reorder the final list); a fourth source goes before ``RrfFusion`` and appends
    its chunk ids to ``ranking.passage_lists``. With ``stories`` (the groups made at ingest), ``OneStory``
    keeps one article per story before ``OnePerPage`` keeps one passage per page."""
    diversity = DiversityConfig()
    one_story: list[Stage] = [OneStory(stories)] if stories is not None else []
    return [
        DenseSource(store),
        Bm25Passages(),
        Bm25Headlines(),  # before fusion: headline matches decide how many BM25-only candidates it fills in
        RrfFusion(store, FusionConfig(rrf_k=settings.rrf_k, per_page=diversity.per_page)),
        TitleBonus(TitleBonusConfig(rrf_k=settings.rrf_k)),
        DatePrior(DatePriorConfig()),
        Order(),
        *one_story,
        OnePerPage(diversity),
        LeadPassages(),
        HeadlineLinks(store),
    ]


class HybridRetriever:
    """Dense, BM25 and headline candidates through ``stages``; each passage carries the scores that chose it
    (``fused``, ``dense``, ``bm25``, and ``title`` when its article's headline matched)."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: ChunkReader,
        lexical: Callable[[], LexicalIndex],
        stages: Sequence[Stage] | None = None,
        stories: StoryMap | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.lexical = lexical
        self.stages = list(stages) if stages is not None else default_stages(settings, store, stories)

    def search(
        self,
        query: str,
        k: int | None = None,
        filters: Filters = Filters(),
        asked_on: str | None = None,
        lead_passages: int = 1,
        date_weight: float | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages for ``query`` (and any headline-only article ranked among them).

        With ``asked_on`` (ISO date) the date prior applies, ``date_weight`` strong (None: the ``DatePrior``
        stage's configured weight). With ``lead_passages`` above 1, the best article's next-best passages
        follow its best one (on top of ``k``)."""
        k = k or self.settings.k
        vector = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        fetch = max(k * self.settings.fetch_factor, MIN_FETCH)
        ranking = Ranking(Query(query, vector, k, fetch, filters, asked_on, lead_passages, date_weight), self.lexical)
        for stage in self.stages:
            stage.run(ranking)
        titles = {aid: score for aid, score, _ in ranking.titles}
        return [_passage(c.chunk, c.score, ranking, titles) for c in ranking.picked if c.chunk is not None]


def _passage(chunk: Chunk, score: float, ranking: Ranking, titles: dict[str, float]) -> Passage:
    scores = {
        "fused": round(score, 5),
        "dense": ranking.dense.get(chunk.id, 0.0),
        "bm25": round(ranking.bm25.get(chunk.id, 0.0), 4),
    }
    if chunk.article_id in titles:
        scores["title"] = round(titles[chunk.article_id], 4)
    return Passage(chunk, scores, ranking.also.get(chunk.article_id, ()))
