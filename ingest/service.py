"""The one service behind every edge: ``Newsdesk`` (ask, stream, ingest, status, articles, delete) and its
composition root ``build_service``.

The CLI, the page, the HTTP API, the eval runner and the speed bench all call this façade; none of them
assembles an ``Indexer`` or a store of its own. It lives in the ingest layer because that is the lowest layer
that knows both halves (the query path in ``rag`` and the write path here), so ``eval`` can be handed it
without importing an edge (layers: ui → eval → ingest → rag).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ingest.indexer import Indexer, IngestReport, Progress
from ingest.sources import Item
from ingest.story_index import StoryIndex
from rag.embedder import MiniLMEmbedder
from rag.filters import Filters
from rag.lc_retriever import NewsdeskRetriever
from rag.lexical import LexicalIndex
from rag.pipeline import Pipeline, Status, build_pipeline
from rag.questions import History
from rag.records import Answer, Article, Passage
from rag.settings import Settings


class Newsdesk:
    """Questions, ingest and the index's state, for one ``Settings``; built by ``build_service``."""

    def __init__(self, pipeline: Pipeline, stories: StoryIndex | None = None) -> None:
        self.pipeline = pipeline  # the query path and its parts (embedder, store), for the bench and the baseline
        self.settings = pipeline.settings
        self.stories = stories  # the story groups ingest keeps and retrieval reads (None: NEWSDESK_STORIES=false)

    def ask(
        self,
        question: str,
        history: History = (),
        *,
        k: int | None = None,
        filters: Filters = Filters(),
        asked_on: str | None = None,
    ) -> Answer:
        """The complete answer to ``question``; see ``stream``."""
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
        """Text pieces as they are produced, then the complete ``Answer`` (``rag.streaming.AnswerStream``
        splits the two)."""
        return self.pipeline.stream(question, history, k, filters, asked_on)

    def retrieve(
        self, question: str, *, k: int | None = None, filters: Filters = Filters(), asked_on: str | None = None
    ) -> list[Passage]:
        """The ranked passages alone, as the answer would see them (eval scores Recall@10 from these)."""
        return self.pipeline.retrieve(question, k, filters, asked_on)

    def as_retriever(
        self, *, k: int | None = None, filters: Filters = Filters(), asked_on: str | None = None
    ) -> NewsdeskRetriever:
        """The hybrid retriever as a LangChain ``BaseRetriever`` (README: "Use newsdesk's retriever in your own
        chain")."""
        return NewsdeskRetriever(search=self.retrieve, k=k or self.settings.k, filters=filters, asked_on=asked_on)

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        prune: bool = False,
        rebuild: bool = False,
        progress: Progress | None = None,
        extra: Iterable[Item] = (),
    ) -> IngestReport:
        """Bring the store in step with ``paths`` (incremental; see ``ingest.indexer.Indexer.run``).

        ``extra`` items (feeds and pages read by ``ingest.feeds.RemoteSources``) follow the paths' and are
        never pruned: they have no path."""
        return self._indexer().run(list(paths), prune=prune, rebuild=rebuild, progress=progress, extra=extra)

    def status(self) -> Status:
        """Counts and provenance of the index (zeros when nothing is ingested yet)."""
        return self.pipeline.status()

    def articles(self, ids: Sequence[str] | None = None) -> list[Article]:
        """Every stored article (or those among ``ids``), by id."""
        found = self.pipeline.store.articles(ids)
        return [found[aid] for aid in sorted(found)]

    def article_ids(self) -> list[str]:
        """Every stored article id, sorted; empty before the first ingest. Reads metadata only, so an edge can
        page through ids and fetch the texts of one page with ``articles(page)``."""
        store = self.pipeline.store
        return sorted(store.article_paths()) if store.exists() else []

    def catalog(self) -> list[tuple[Article, int]]:
        """Every stored article without its text (``Article.text`` is ""), newest first, with how many chunks
        it has: what `newsdesk articles` and the page's Articles list show. Empty before the first ingest."""
        store = self.pipeline.store
        if not store.exists():
            return []
        found = store.articles(text=False)
        owned = store.chunk_ids_of(list(found))
        rows = [(found[aid], len(owned.get(aid, ()))) for aid in found]
        return sorted(rows, key=lambda row: (row[0].published_at, row[0].id), reverse=True)

    def article(self, article_id: str) -> Article | None:
        """One stored article, None when there is none with that id (also before the first ingest)."""
        store = self.pipeline.store
        return store.get_article(article_id) if store.exists() else None

    def delete(self, ids: Sequence[str]) -> int:
        """Remove these articles (chunks, record, BM25 entries); how many were stored. Unknown ids are ignored,
        and with nothing stored yet nothing is created."""
        if not ids or not self.pipeline.store.exists():
            return 0
        return self._indexer().delete(list(ids))

    def sources(self) -> list[str]:
        """Every source name in the index, sorted (the page's filter choices)."""
        return self.pipeline.fresh_lexical().sources()

    def generation(self) -> str:
        """A tag that changes whenever an ingest changes the index (cache keys at the edges)."""
        return str(self.pipeline.store.info().get("generation", ""))

    def _indexer(self) -> Indexer:
        # Its own BM25 object: readers keep theirs (shared by the page's sessions) and reload it when the
        # store's generation moves, so a build never swaps an index under a question being answered.
        lexical = LexicalIndex(self.settings.lexical_dir)
        return Indexer(self.settings, self.pipeline.embedder, self.pipeline.store, lexical, self.stories)


def build_service(
    settings: Settings | None = None, *, embedder: MiniLMEmbedder | None = None, chat_model: Any = None
) -> Newsdesk:
    """The composition root of the edges: the CLI, the page, the API, eval and the bench start here.

    ``embedder`` hands in an already loaded model (tests share one per session); ``chat_model`` any LangChain
    ``BaseChatModel`` for generative answers (default ``ChatOpenAI`` from the settings). Unless
    ``NEWSDESK_STORIES=false``, ingest groups copies of one story and retrieval shows each story once."""
    settings = settings or Settings()
    stories = StoryIndex(settings.stories_path) if settings.stories else None
    pipeline = build_pipeline(settings, embedder=embedder, chat_model=chat_model, stories=stories)
    return Newsdesk(pipeline, stories)
