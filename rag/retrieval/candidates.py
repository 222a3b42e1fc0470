"""What the retrieval stages pass along: the question, and the candidates with the scores that rank them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from rag.filters import Filters
from rag.lexical import LexicalIndex
from rag.records import Chunk, Reported
from rag.urls import canonical_url


@dataclass(frozen=True)
class Query:
    """One question as retrieval sees it: its text and vector, how many passages, filters and date."""

    text: str
    vector: np.ndarray
    k: int
    fetch: int  # how many each source returns before fusion
    filters: Filters = Filters()
    asked_on: str | None = None
    lead_passages: int = 1
    # How much the date prior counts for this question (rag/time_query.py: milder with no time words,
    # stronger for "latest"); None is the DatePrior stage's own weight (DatePriorConfig.weight, 0.04).
    date_weight: float | None = None


@dataclass(frozen=True)
class Candidate:
    """A chunk in the running, or an article found by its headline alone (``chunk`` None) until expansion
    picks its best chunk. ``score`` is what ranks it; the stages add to it."""

    id: str  # the chunk id; the article id for a headline-only stand-in
    article_id: str
    published_at: str
    chunk: Chunk | None = None
    score: float = 0.0

    @property
    def headline_only(self) -> bool:
        return self.chunk is None

    @property
    def readable(self) -> bool:
        """Counts among the ``k``: a passage with text (a stand-in counts until it is resolved to a chunk)."""
        return self.chunk is None or bool(self.chunk.text)

    @property
    def page(self) -> str:
        """The page it stands for: its URL written one way, else its article id (one page under several
        addresses is one source)."""
        if self.chunk is None:
            return self.article_id
        return canonical_url(self.chunk.url) or self.article_id

    def order(self) -> tuple[float, bool, str]:
        """Best first; ties go to stand-ins, then by id, so a ranking is the same on every run."""
        return (-self.score, self.chunk is not None, self.id)

    def plus(self, amount: float) -> Candidate:
        return replace(self, score=self.score + amount)


@dataclass
class Ranking:
    """One question's working state, passed from stage to stage: each source's hits, then the candidates."""

    query: Query
    bm25_index: Callable[[], LexicalIndex]
    passage_lists: list[list[str]] = field(default_factory=list)  # chunk ids per passage source, best first
    chunks: dict[str, Chunk] = field(default_factory=dict)
    dense: dict[str, float] = field(default_factory=dict)  # cosine per chunk id
    bm25: dict[str, float] = field(default_factory=dict)
    titles: list[tuple[str, float, int]] = field(default_factory=list)  # (article id, BM25 score, day number)
    fused: dict[str, float] = field(default_factory=dict)
    candidates: list[Candidate] = field(default_factory=list)
    picked: list[Candidate] = field(default_factory=list)
    also: dict[str, tuple[Reported, ...]] = field(default_factory=dict)  # article id -> its story's other pages
    _index: LexicalIndex | None = None

    def lexical(self) -> LexicalIndex:
        """The BM25 index, fetched (and brought up to date) once per question for every BM25 source."""
        if self._index is None:
            self._index = self.bm25_index()
        return self._index


class Stage(Protocol):
    """One step of retrieval: reads and extends the ``Ranking``."""

    def run(self, ranking: Ranking) -> None: ...
