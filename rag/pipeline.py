"""The composition root: the one place that wires settings → embedder, store, BM25, retriever, answerers."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.embedder import MiniLMEmbedder
from rag.lexical import LexicalIndex
from rag.settings import Settings
from rag.store import Store

BUNDLED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@dataclass
class Status:
    """What `newsdesk status` and the page sidebar show."""

    data_dir: str
    store: str
    collection: str
    articles: int
    chunks: int
    embedder: str
    chunking: str
    last_ingest: str
    answer_mode: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Pipeline:
    """Everything a question or an ingest needs, built once per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedder = MiniLMEmbedder()
        self.store = Store(settings, self.embedder.id, self.embedder.dimension)
        self.lexical = LexicalIndex(settings.lexical_dir)
        self._lexical_lock = threading.Lock()

    def status(self) -> Status:
        """Counts and provenance of the index; zero counts (not an error) when nothing is ingested yet."""
        exists = self.store.exists()
        articles, chunks = self.store.counts() if exists else (0, 0)
        info = self.store.info() if exists else {}
        return Status(
            data_dir=str(self.settings.data_dir),
            store=self.store.location,
            collection=self.settings.collection,
            articles=articles,
            chunks=chunks,
            embedder=self.embedder.id,
            chunking=self.store.chunking,
            last_ingest=str(info.get("last_ingest", "")),
            answer_mode=self.answer_mode,
        )

    @property
    def answer_mode(self) -> str:
        if self.settings.generative:
            return f"generative ({self.settings.openai_model})"
        return "extractive (offline)"

    def fresh_lexical(self) -> LexicalIndex:
        """The BM25 index, reloaded or rebuilt when the store has moved on since it was built."""
        with self._lexical_lock:
            generation = str(self.store.info().get("generation", ""))
            if self.lexical.generation != generation:
                if not self.lexical.load() or self.lexical.generation != generation:
                    self.lexical.build(self.store.iter_chunks(), generation)
            return self.lexical


def build_pipeline(settings: Settings | None = None) -> Pipeline:
    """The composition root: CLI, page, eval and tests all start here."""
    return Pipeline(settings or Settings())
