"""The pipeline is handed its parts: an in-memory retriever in place of the hybrid one, and the real
embedder and extractive answerer, answer without any store search."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from rag.embedder import MiniLMEmbedder
from rag.extractive import ExtractiveAnswerer
from rag.filters import Filters
from rag.lexical import LexicalIndex
from rag.pipeline import FreshLexical, Pipeline
from rag.records import Chunk, Passage
from rag.roles import Retriever
from rag.settings import Settings
from rag.store import Store

pytestmark = pytest.mark.integration

TEXT = "The museum returned 31 looted bronze sculptures to Nigeria in a ceremony on Saturday."


class ListRetriever:
    """Always the same passages, and a record of what it was asked."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self.asked: list[tuple[str, int | None, Filters, str | None, int]] = []

    def search(self, query: str, k: int | None = None, filters: Filters = Filters(), asked_on: str | None = None,
               lead_passages: int = 1, date_weight: float | None = None) -> list[Passage]:
        self.asked.append((query, k, filters, asked_on, lead_passages))
        return self.passages


def test_a_handed_in_retriever_feeds_the_answer(settings: Settings, embedder: MiniLMEmbedder) -> None:
    store = Store(settings, embedder.id, embedder.dimension)  # never opened: nothing is asked of it
    chunk = Chunk("c1", "bronzes", 0, TEXT, 0, len(TEXT), title="Museum returns looted bronzes")
    # fused 0.05: first in all three ranked lists (3 / 61), as a passage this apt would be; the refusal stage reads it
    retriever = ListRetriever([Passage(chunk, {"fused": 0.05, "dense": 0.7, "bm25": 2.0})])
    role: Retriever = retriever
    pipeline = Pipeline(
        settings, embedder=embedder, store=store, lexical=FreshLexical(store, LexicalIndex(settings.lexical_dir)),
        retriever=role, extractive=ExtractiveAnswerer(embedder),
    )
    answer = pipeline.answer("How many bronze sculptures did the museum return?", asked_on="2022-06-20")
    assert not answer.refused and "31 looted bronze sculptures" in answer.text
    assert [c.article_id for c in answer.citations] == ["bronzes"] and answer.citations[0].quote in TEXT
    assert retriever.asked == [("How many bronze sculptures did the museum return?", None, Filters(), "2022-06-20", 3)]
    assert not settings.chroma_path.exists()  # the store was never touched
