"""BM25 over chunk texts and over article titles (bm25s), persisted in the data dir and rebuilt from the store
when it falls behind.

Titles get an index of their own because a headline is the article's own summary: matching it is stronger
evidence than matching any one chunk, yet a chunk only carries its title once among ~200 tokens of body text.

The store is the source of truth; this index is a derived cache tagged with the store's generation. When the
generation or chunk count differs (another process ingested, or an ingest was killed), it is rebuilt from the
chunks in Chroma, so it can never drift from the vectors for long.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from rag.filters import Filters, day_number
from rag.records import Chunk, indexed_text
from rag.words import ANALYZER, STOPWORDS, terms, tokenize

__all__ = ["ANALYZER", "STOPWORDS", "LexicalIndex", "terms", "tokenize"]  # the words are rag.words'; kept here too


class LexicalIndex:
    """A BM25 index over the store's chunks, with per-chunk source and date for filtering."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._chunks = _Field.empty()
        self._titles = _Field.empty()
        self.generation = ""

    def build(self, chunks: Iterable[Chunk], generation: str) -> None:
        """Index ``chunks`` and their articles' titles; save atomically (write a sibling folder, then swap it in)."""
        import bm25s

        ids, sources, days, corpus = [], [], [], []
        articles: dict[str, tuple[str, str, int]] = {}  # article id → (title, source, day)
        for chunk in chunks:
            ids.append(chunk.id)
            sources.append(chunk.source)
            days.append(day_number(chunk.published_at))
            corpus.append(terms(indexed_text(chunk.title, chunk.text)) or ["\x00"])
            articles.setdefault(chunk.article_id, (chunk.title, chunk.source, days[-1]))
        retriever = bm25s.BM25()
        if corpus:
            retriever.index(corpus, show_progress=False)
        titles = bm25s.BM25()
        if articles:
            titles.index([terms(title) or ["\x00"] for title, _, _ in articles.values()], show_progress=False)
        chunk_field = _Field(retriever if corpus else None, ids, sources, days)
        title_field = _Field(
            titles if articles else None,
            list(articles),
            [source for _, source, _ in articles.values()],
            [day for _, _, day in articles.values()],
        )
        # Builders in other threads or processes (an ingest finishing, a reader catching up) share these names.
        with self._file_lock(exclusive=True):
            tmp = self.directory.with_name(self.directory.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True, exist_ok=True)
            if corpus:
                retriever.save(str(tmp), show_progress=False)
                titles.save(str(tmp / "titles"), show_progress=False)
            (tmp / "newsdesk.json").write_text(
                json.dumps({"generation": generation, "analyzer": ANALYZER, **chunk_field.saved(),
                            "titles": title_field.saved()}),
                "utf-8",
            )
            old = self.directory.with_name(self.directory.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if self.directory.exists():
                os.replace(self.directory, old)
            os.replace(tmp, self.directory)
            shutil.rmtree(old, ignore_errors=True)
        with self._lock:
            self._install(chunk_field, title_field, generation)

    def load(self) -> bool:
        """Read the saved index; False when there is none (or it is unreadable or older, which means: rebuild)."""
        import bm25s

        meta_file = self.directory / "newsdesk.json"
        try:
            with self._file_lock(exclusive=False):  # never half of one build and half of the next
                meta = json.loads(meta_file.read_text("utf-8"))
                if meta.get("analyzer") != ANALYZER:  # built with other tokens: its terms would never match
                    return False
                generation = meta["generation"]
                chunks = _Field(None, meta["ids"], meta["sources"], meta["days"])
                titles = _Field(None, **meta["titles"])
                if chunks.ids:
                    chunks.bm25 = bm25s.BM25.load(str(self.directory), show_progress=False)
                    titles.bm25 = bm25s.BM25.load(str(self.directory / "titles"), show_progress=False)
            if not (chunks.consistent() and titles.consistent()):
                return False
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # a partial or older index: rebuild it
            return False
        with self._lock:
            self._install(chunks, titles, generation)
        return True

    @contextmanager
    def _file_lock(self, exclusive: bool) -> Iterator[None]:
        """A lock file beside the index: exclusive while a build swaps it in, shared while it is read."""
        try:
            if exclusive:
                self.directory.parent.mkdir(parents=True, exist_ok=True)
            handle = self.directory.with_name(self.directory.name + ".lock").open("a")
        except OSError:  # no index folder yet, or a read-only data dir: nobody is building here
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield

    def _install(self, chunks: _Field, titles: _Field, generation: str) -> None:
        self._chunks = chunks
        self._titles = titles
        self.generation = generation

    @property
    def ids(self) -> list[str]:
        return self._chunks.ids

    def __len__(self) -> int:
        return len(self._chunks.ids)

    def sources(self) -> list[str]:
        """Every source name among the indexed chunks, sorted (the page's filter choices)."""
        with self._lock:
            names = self._chunks.sources
        return sorted({str(name) for name in names if name})

    def search(self, query: str, n: int, filters: Filters = Filters()) -> list[tuple[str, float]]:
        """Best ``n`` (chunk id, BM25 score) pairs with a positive score, best first."""
        with self._lock:
            field = self._chunks
        return [(field.ids[i], score) for i, score in field.top(terms(query), n, filters)]

    def search_titles(self, query: str, n: int, filters: Filters = Filters()) -> list[tuple[str, float, int]]:
        """Best ``n`` (article id, BM25 score over titles alone, ``day_number`` of the article) with a positive
        score, best first."""
        with self._lock:
            field = self._titles
        return [(field.ids[i], score, int(field.days[i])) for i, score in field.top(terms(query), n, filters)]


class _Field:
    """One BM25 index (over chunks, or over titles) with the id, source and date of each of its documents."""

    def __init__(self, bm25: Any, ids: list[str], sources: list[str], days: list[int]) -> None:
        self.bm25 = bm25
        self.ids = ids
        self.sources = np.array(sources, dtype=object)
        self.days = np.array(days, dtype=np.int64)

    @classmethod
    def empty(cls) -> _Field:
        return cls(None, [], [], [])

    def saved(self) -> dict[str, list[Any]]:
        """Ids, sources and dates as they are written beside the BM25 files (``load`` reads them back)."""
        return {"ids": self.ids, "sources": self.sources.tolist(), "days": self.days.tolist()}

    def consistent(self) -> bool:
        """Whether the saved ids, sources, dates and BM25 document count agree (a torn save does not)."""
        if not len(self.ids) == len(self.sources) == len(self.days):
            return False
        return self.bm25 is None or self.bm25.scores.get("num_docs") == len(self.ids)

    def top(self, tokens: list[str], n: int, filters: Filters) -> list[tuple[int, float]]:
        """Positions and scores of the best ``n`` documents with a positive score, best first."""
        if self.bm25 is None or not any(t in self.bm25.vocab_dict for t in tokens):
            return []
        scores = np.asarray(self.bm25.get_scores(tokens), dtype=np.float32).copy()
        if filters:
            mask = np.ones(len(self.ids), dtype=bool)
            if filters.sources:
                mask &= np.isin(self.sources, list(filters.sources))
            if filters.since or filters.until:
                mask &= self.days > 0
            if filters.since:
                mask &= self.days >= day_number(filters.since)
            if filters.until:
                mask &= self.days <= day_number(filters.until)
            scores[~mask] = 0.0
        n = min(n, len(self.ids))
        top = np.argpartition(-scores, n - 1)[:n] if n < len(self.ids) else np.arange(len(self.ids))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
