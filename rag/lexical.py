"""BM25 over chunk texts (bm25s), persisted in the data dir and rebuilt from the store when it falls behind.

The store is the source of truth; this index is a derived cache tagged with the store's generation. When the
generation or chunk count differs (another process ingested, or an ingest was killed), it is rebuilt from the
chunks in Chroma, so it can never drift from the vectors for long.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rag.records import Chunk, indexed_text
from rag.store import Filters, day_number

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# A short English stop list: BM25's IDF already discounts common words, this just keeps queries lean.
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have he her his in is it its of on or she that the their them "
    "they this to was were which who whom will with what when where why how did does do been being would could "
    "should can may might also into than then there these those our your you we i me my not no".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without stop words.

    >>> tokenize("Which company is lobbying the White House?")
    ['company', 'lobbying', 'white', 'house']
    """
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


class LexicalIndex:
    """A BM25 index over the store's chunks, with per-chunk source and date for filtering."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._bm25: object | None = None
        self.ids: list[str] = []
        self._sources: np.ndarray = np.array([], dtype=object)
        self._days: np.ndarray = np.array([], dtype=np.int64)
        self.generation = ""

    def build(self, chunks: Iterable[Chunk], generation: str) -> None:
        """Index ``chunks`` and save atomically (write a sibling folder, then swap it in)."""
        import bm25s

        ids, sources, days, corpus = [], [], [], []
        for chunk in chunks:
            ids.append(chunk.id)
            sources.append(chunk.source)
            days.append(day_number(chunk.published_at))
            corpus.append(tokenize(indexed_text(chunk.title, chunk.text)) or ["\x00"])
        retriever = bm25s.BM25()
        if corpus:
            retriever.index(corpus, show_progress=False)
        # Builders in other threads or processes (an ingest finishing, a reader catching up) share these names.
        with self._file_lock(exclusive=True):
            tmp = self.directory.with_name(self.directory.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True, exist_ok=True)
            if corpus:
                retriever.save(str(tmp), show_progress=False)
            (tmp / "newsdesk.json").write_text(
                json.dumps({"generation": generation, "ids": ids, "sources": sources, "days": days}), "utf-8"
            )
            old = self.directory.with_name(self.directory.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if self.directory.exists():
                os.replace(self.directory, old)
            os.replace(tmp, self.directory)
            shutil.rmtree(old, ignore_errors=True)
        with self._lock:
            self._install(retriever if corpus else None, ids, sources, days, generation)

    def load(self) -> bool:
        """Read the saved index; False when there is none (or it is unreadable, which means: rebuild)."""
        import bm25s

        meta_file = self.directory / "newsdesk.json"
        try:
            with self._file_lock(exclusive=False):  # never half of one build and half of the next
                meta = json.loads(meta_file.read_text("utf-8"))
                ids, sources, days, generation = meta["ids"], meta["sources"], meta["days"], meta["generation"]
                if not len(ids) == len(sources) == len(days):
                    return False
                retriever = bm25s.BM25.load(str(self.directory), show_progress=False) if ids else None
            if retriever is not None and retriever.scores.get("num_docs") != len(ids):
                return False
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # a partial or older index: rebuild it
            return False
        with self._lock:
            self._install(retriever, ids, sources, days, generation)
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

    def _install(
        self, retriever: object | None, ids: list[str], sources: list[str], days: list[int], generation: str
    ) -> None:
        self._bm25 = retriever
        self.ids = ids
        self._sources = np.array(sources, dtype=object)
        self._days = np.array(days, dtype=np.int64)
        self.generation = generation

    def __len__(self) -> int:
        return len(self.ids)

    def sources(self) -> list[str]:
        """Every source name among the indexed chunks, sorted (the page's filter choices)."""
        with self._lock:
            names = self._sources
        return sorted({str(name) for name in names if name})

    def search(self, query: str, n: int, filters: Filters = Filters()) -> list[tuple[str, float]]:
        """Best ``n`` (chunk id, BM25 score) pairs with a positive score, best first."""
        with self._lock:
            retriever, ids = self._bm25, self.ids
            sources, days = self._sources, self._days
        tokens = tokenize(query)
        if retriever is None or not tokens:
            return []
        scores = retriever.get_scores(tokens) if any(t in retriever.vocab_dict for t in tokens) else None  # type: ignore[attr-defined]
        if scores is None:
            return []
        scores = np.asarray(scores, dtype=np.float32).copy()
        if filters:
            mask = np.ones(len(ids), dtype=bool)
            if filters.sources:
                mask &= np.isin(sources, list(filters.sources))
            if filters.since or filters.until:
                mask &= days > 0
            if filters.since:
                mask &= days >= day_number(filters.since)
            if filters.until:
                mask &= days <= day_number(filters.until)
            scores[~mask] = 0.0
        n = min(n, len(ids))
        top = np.argpartition(-scores, n - 1)[:n] if n < len(ids) else np.arange(len(ids))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]
