"""A stand-in for the core's façade: the ``ui.api_contract.Service`` methods over today's ``Pipeline``.

Small on purpose: once the core has its own façade (built by one composition root), the API is handed that
instead and this file goes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from ingest.indexer import Indexer, IngestReport, ingest_lock
from rag.filters import Filters
from rag.lexical import LexicalIndex
from rag.pipeline import Pipeline, Status, build_pipeline
from rag.questions import History
from rag.records import Answer, Article
from rag.settings import Settings
from ui.api_contract import ArticlePage, Progress


class PipelineService:
    """Questions through the pipeline, ingests through an ``Indexer``, article listing and deletes on the store."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def ask(
        self,
        question: str,
        history: History = (),
        *,
        k: int | None = None,
        filters: Filters = Filters(),
        asked_on: str | None = None,
    ) -> Answer:
        return self.pipeline.answer(question, history, k, filters, asked_on)

    def stream(
        self,
        question: str,
        history: History = (),
        *,
        k: int | None = None,
        filters: Filters = Filters(),
        asked_on: str | None = None,
    ) -> Iterator[str | Answer]:
        return self.pipeline.stream(question, history, k, filters, asked_on)

    def ingest(
        self, paths: Sequence[Path], *, prune: bool = False, rebuild: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        # Its own BM25 object, as the page's uploads do: readers keep theirs and reload when the generation moves.
        p = self.pipeline
        indexer = Indexer(p.settings, p.embedder, p.store, LexicalIndex(p.settings.lexical_dir))
        return indexer.run(list(paths), prune=prune, rebuild=rebuild, progress=progress)

    def status(self) -> Status:
        return self.pipeline.status()

    def articles(self, *, offset: int = 0, limit: int = 50) -> ArticlePage:
        store = self.pipeline.store
        if not store.exists():
            return ArticlePage(0, ())
        ids = sorted(store.article_paths())  # metadata only: the texts are read for the one page asked for
        page = ids[offset : offset + limit]
        found = store.articles(page)
        return ArticlePage(len(ids), tuple(found[i] for i in page if i in found))

    def article(self, article_id: str) -> Article | None:
        store = self.pipeline.store
        return store.get_article(article_id) if store.exists() else None

    def delete(self, ids: Sequence[str]) -> int:
        p = self.pipeline
        if not ids or not p.store.exists():
            return 0
        with ingest_lock(p.settings.data_dir):  # never in the middle of an ingest's writes
            present = list(p.store.article_paths(list(ids)))
            if not present:
                return 0
            p.store.mark_changed()  # readers' BM25 is behind from here until it is rebuilt below
            p.store.delete_articles(present)
            generation = p.store.mark_changed()
            LexicalIndex(p.settings.lexical_dir).build(p.store.iter_chunks(), generation)
        return len(present)


def build_service(settings: Settings) -> PipelineService:
    """The service the API serves, on ``settings``."""
    return PipelineService(build_pipeline(settings))
