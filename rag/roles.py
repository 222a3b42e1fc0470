"""The roles of the query path as small interfaces: what a part must offer to be handed to the pipeline.

Where the ecosystem has an interface it is used instead (the chat model is a LangChain ``BaseChatModel``,
the hybrid retriever is offered as a ``BaseRetriever``); these Protocols cover the rest. Tests hand in
real or in-memory parts that satisfy them; nothing is monkeypatched.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag.filters import Filters
from rag.records import Answer, Article, Chunk, Passage, Story


@runtime_checkable
class Embedder(Protocol):
    """Text to vectors (MiniLM in production; also a LangChain ``Embeddings``). ``id`` and ``dimension`` are
    written into the store, which refuses vectors from another embedder."""

    id: str
    dimension: int

    def embed_query(self, text: str) -> list[float]: ...

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_array(self, texts: Sequence[str]) -> np.ndarray: ...

    def fits(self, text: str) -> bool: ...


class ChunkReader(Protocol):
    """The read side of the chunk store, as retrieval uses it."""

    def query(self, vector: Sequence[float], n: int, filters: Filters = ...) -> list[Passage]: ...

    def get_chunks(self, ids: Sequence[str], with_vectors: bool = False) -> dict[str, tuple[Chunk, list[float]]]: ...

    def article_chunks(self, article_ids: Sequence[str]) -> dict[str, list[tuple[Chunk, list[float]]]]: ...


class ArticleReader(Protocol):
    """The read side of the article store: the full texts citations quote from."""

    def get_article(self, article_id: str) -> Article | None: ...

    def articles(self, ids: Sequence[str] | None = None) -> dict[str, Article]: ...

    def counts(self) -> tuple[int, int]: ...


class StoreWriter(Protocol):
    """The write side, as ingest uses it: chunks first, then the article records that mark them done."""

    def write_chunks(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None: ...

    def write_articles(self, articles: Sequence[Article], content_hashes: Sequence[str]) -> None: ...

    def delete_articles(self, article_ids: Sequence[str]) -> None: ...

    def mark_changed(self, last_ingest: str | None = None, new_generation: bool = True) -> str: ...


class StoryMap(Protocol):
    """Which stored articles tell one story (grouped at ingest; ``ingest.story_index`` keeps them)."""

    def stories_of(self, article_ids: Sequence[str]) -> dict[str, Story]:
        """The story of each of ``article_ids`` that has other members; the rest are left out."""
        ...


class Retriever(Protocol):
    """Ranked passages for a question (the hybrid retriever's stages, or any other)."""

    def search(
        self,
        query: str,
        k: int | None = None,
        filters: Filters = ...,
        asked_on: str | None = None,
        lead_passages: int = 1,
        date_weight: float | None = None,
    ) -> list[Passage]: ...


class Answerer(Protocol):
    """The answerer contract: text pieces as they are made, then the complete ``Answer``."""

    def stream(self, question: str, passages: Sequence[Passage], **context: Any) -> Iterator[str | Answer]: ...
