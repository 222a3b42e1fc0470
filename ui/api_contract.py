"""What the HTTP API needs from newsdesk: the façade methods it calls, as a ``typing.Protocol``.

The API is written against this and nothing else, so any object with these methods can serve it: today the
adapter in ``ui/api_service.py``, later the core's own façade. ``ask``/``stream``/``ingest``/``status``/
``delete`` follow the façade's signatures; ``articles`` (a page) and ``article`` (one, with its text) are
what the store allows today.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ingest.indexer import IngestReport
from rag.filters import Filters
from rag.pipeline import Status
from rag.questions import History
from rag.records import Answer, Article

Progress = Callable[[int, int], None]  # (articles seen so far, chunks embedded so far)


@dataclass(frozen=True)
class ArticlePage:
    """A slice of the stored articles, ordered by id, and how many there are in all."""

    total: int
    articles: tuple[Article, ...]


class Service(Protocol):
    """The newsdesk operations behind every API route."""

    def ask(
        self,
        question: str,
        history: History = (),
        *,
        k: int | None = None,
        filters: Filters = Filters(),
        asked_on: str | None = None,
    ) -> Answer:
        """The complete answer to ``question``."""
        ...

    def stream(
        self,
        question: str,
        history: History = (),
        *,
        k: int | None = None,
        filters: Filters = Filters(),
        asked_on: str | None = None,
    ) -> Iterator[str | Answer]:
        """Text pieces as they are made, then the complete ``Answer``."""
        ...

    def ingest(
        self, paths: Sequence[Path], *, prune: bool = False, rebuild: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Add or update the articles under ``paths``."""
        ...

    def status(self) -> Status:
        """Counts and provenance of the index."""
        ...

    def articles(self, *, offset: int = 0, limit: int = 50) -> ArticlePage:
        """Stored articles ``offset`` to ``offset + limit`` by id."""
        ...

    def article(self, article_id: str) -> Article | None:
        """One stored article with its full text; ``None`` when there is no such id."""
        ...

    def delete(self, ids: Sequence[str]) -> int:
        """Remove these articles (chunks, record, BM25 entries); returns how many existed."""
        ...
