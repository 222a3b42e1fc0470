"""Chroma, embedded or server: the chunk vectors and the full article texts citations quote from.

Two collections per name: ``<name>`` holds chunk vectors with their metadata, ``<name>-articles`` holds one
record per article (full text, metadata and content hash). The article record is written after its chunks,
so it doubles as the commit marker that makes an interrupted ingest safe to re-run.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from rag import chroma
from rag.chroma import forget_clients
from rag.errors import EmptyIndexError, IndexMismatchError
from rag.filters import Filters
from rag.records import Article, Chunk, Passage
from rag.settings import Settings
from rag.store_writes import StoreWrites

__all__ = ["LAYOUT", "Store", "forget_clients"]

LAYOUT = 2  # bump when what is stored changes shape; older stores are then refused with the fix
_PAGE = 2000


class Store(StoreWrites):
    """The chunk and article collections, and the metadata that says what built them (the read side here,
    the write side in ``rag.store_writes``)."""

    def __init__(self, settings: Settings, embedder_id: str, dimension: int) -> None:
        self.settings = settings
        self.embedder_id = embedder_id
        self.dimension = dimension
        self.chunking = f"cl100k:{settings.chunk_tokens}/{settings.chunk_overlap}:sentences:title"
        self._chunks: Any = None
        self._articles: Any = None
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.chroma_path)

    @property
    def fingerprint(self) -> str:
        """What an article's chunks were made with; a stored article with another one is re-indexed."""
        return f"{self.embedder_id}|{self.chunking}"

    def _expected_meta(self) -> dict[str, Any]:
        return {"layout": LAYOUT, "embedder": self.embedder_id, "dimension": self.dimension, "chunking": self.chunking}

    def _open(self, create: bool) -> None:
        if self._chunks is not None:
            return
        with self._lock:
            if self._chunks is not None:
                return
            name = self.settings.collection
            # Reading never creates a store (say, where a mistyped NEWSDESK_DATA_DIR points).
            client = None if not create and self._absent() else chroma.client(self.settings)
            if client is None or name not in {getattr(c, "name", c) for c in client.list_collections()}:
                if client is None or not create:
                    raise EmptyIndexError(
                        f"No articles indexed yet in {self.location} (collection {name!r}). "
                        "Run `newsdesk ingest PATH` (or `newsdesk ingest` for the bundled corpus)."
                    )
                meta = {**self._expected_meta(), "generation": uuid.uuid4().hex, "last_ingest": ""}
                client.get_or_create_collection(
                    name, embedding_function=None, metadata=meta, configuration={"hnsw": {"space": "cosine"}}
                )
            chunks = client.get_collection(name, embedding_function=None)
            self._check(chunks.metadata or {})
            # Article records are looked up by id only; Chroma wants a vector per record, so each gets [1.0].
            self._articles = client.get_or_create_collection(f"{name}-articles", embedding_function=None)
            self._chunks = chunks

    def _check(self, meta: dict[str, Any]) -> None:
        expected = self._expected_meta()
        wrong = {k: meta.get(k) for k, v in expected.items() if meta.get(k) != v}
        if wrong:
            found = ", ".join(f"{k}={v!r}" for k, v in wrong.items())
            wanted = ", ".join(f"{k}={expected[k]!r}" for k in wrong)
            raise IndexMismatchError(
                f"The index in {self.location} (collection {self.settings.collection!r}) was built with {found}; "
                f"this newsdesk needs {wanted}. Run `newsdesk ingest --rebuild` to re-index it from the article "
                "texts it already holds (nothing else is changed)."
            )

    def exists(self) -> bool:
        """Whether there is a collection to read (it may still be incompatible); asking creates nothing."""
        if self._absent():
            return False
        client = chroma.client(self.settings)
        return self.settings.collection in {getattr(c, "name", c) for c in client.list_collections()}

    def _absent(self) -> bool:
        """An embedded store whose folder does not exist yet (opening a client there would create it)."""
        return not self.settings.chroma_url and not self.settings.chroma_path.is_dir()

    def open_for_writing(self) -> None:
        self._open(create=True)

    # --- reading -------------------------------------------------------------------------------------
    def counts(self) -> tuple[int, int]:
        """(articles, chunks)."""
        self._open(create=False)
        return int(self._articles.count()), int(self._chunks.count())

    def info(self) -> dict[str, Any]:
        """The chunk collection's metadata (embedder, chunking, generation, last_ingest)."""
        self._open(create=False)
        client = chroma.client(self.settings)
        return dict(client.get_collection(self.settings.collection, embedding_function=None).metadata or {})

    def query(self, vector: Sequence[float], n: int, filters: Filters = Filters()) -> list[Passage]:
        """Nearest chunks by cosine similarity, best first."""
        self._open(create=False)
        result = self._chunks.query(
            query_embeddings=[list(vector)],
            n_results=n,
            where=chroma.where(filters),
            include=["documents", "metadatas", "distances"],
        )
        return [
            Passage(chroma.to_chunk(cid, doc, meta), {"dense": round(1.0 - float(dist), 6)})
            for cid, doc, meta, dist in zip(
                result["ids"][0],
                result["documents"][0],
                result["metadatas"][0],
                result["distances"][0],
                strict=True,
            )
            if meta is not None  # deleted by another process since this one opened the store (see get_chunks)
        ]

    def get_chunks(self, ids: Sequence[str], with_vectors: bool = False) -> dict[str, tuple[Chunk, list[float]]]:
        """Chunks by id (unknown ids are left out), each with its vector when ``with_vectors``."""
        self._open(create=False)
        if not ids:
            return {}
        if with_vectors:
            return {chunk.id: (chunk, vector) for chunk, vector in self._with_vectors(ids=list(ids))}
        result = self._chunks.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            cid: (chroma.to_chunk(cid, doc, meta), [])
            for cid, doc, meta in zip(result["ids"], result["documents"], result["metadatas"], strict=True)
        }

    def article_chunks(self, article_ids: Sequence[str]) -> dict[str, list[tuple[Chunk, list[float]]]]:
        """Every chunk of each of ``article_ids``, with its vector (for articles found by their title alone)."""
        self._open(create=False)
        found: dict[str, list[tuple[Chunk, list[float]]]] = {aid: [] for aid in article_ids}
        if article_ids:
            for chunk, vector in self._with_vectors(where={"article_id": {"$in": list(article_ids)}}):
                found.setdefault(chunk.article_id, []).append((chunk, vector))
        return found

    def lead_vectors(self, article_ids: Sequence[str]) -> dict[str, list[float]]:
        """The vector of each article's first chunk (its headline and lede), for grouping coverage of one event."""
        self._open(create=False)
        found: dict[str, list[float]] = {}
        for lo in range(0, len(article_ids), 500):
            where = {"$and": [{"article_id": {"$in": list(article_ids[lo : lo + 500])}}, {"position": 0}]}
            for chunk, vector in self._with_vectors(where=where):
                found[chunk.article_id] = vector
        return found

    def _with_vectors(self, **selector: Any) -> list[tuple[Chunk, list[float]]]:
        """The chunks ``selector`` (``ids=`` or ``where=``) picks, each with its vector."""
        try:
            result = self._chunks.get(**selector, include=["documents", "metadatas", "embeddings"])
        except Exception:
            # Embedded Chroma keeps the vector index in memory: chunks another process added since this one opened
            # the store have text and metadata here but no vector until it is reopened. They get a zero vector
            # (no dense score) rather than failing the question; the BM25 index already knows them.
            result = self._chunks.get(**selector, include=["documents", "metadatas"])
            result["embeddings"] = [self._vector_or_zeros(cid) for cid in result["ids"]]
        return [
            (chroma.to_chunk(cid, doc, meta), list(vec))
            for cid, doc, meta, vec in zip(
                result["ids"], result["documents"], result["metadatas"], result["embeddings"], strict=True
            )
        ]

    def _vector_or_zeros(self, cid: str) -> list[float]:
        try:
            return list(self._chunks.get(ids=[cid], include=["embeddings"])["embeddings"][0])
        except Exception:
            return [0.0] * self.dimension

    def iter_chunks(self) -> Iterator[Chunk]:
        """Every chunk, page by page (the BM25 index is rebuilt from this)."""
        self._open(create=False)
        for cid, doc, meta in _scan(self._chunks, ["documents", "metadatas"]):
            yield chroma.to_chunk(cid, doc, meta)

    def get_article(self, article_id: str) -> Article | None:
        self._open(create=False)
        result = self._articles.get(ids=[article_id], include=["documents", "metadatas"])
        if not result["ids"]:
            return None
        return chroma.to_article(result["ids"][0], result["documents"][0], result["metadatas"][0])

    def articles(self, ids: Sequence[str] | None = None, *, text: bool = True) -> dict[str, Article]:
        """Every stored article (or those among ``ids``), read in pages rather than one request each;
        ``text=False`` leaves the texts out (``Article.text`` is "") so listing every article stays cheap."""
        self._open(create=False)
        include = ["documents", "metadatas"] if text else ["metadatas"]
        rows = _scan(self._articles, include) if ids is None else _by_ids(self._articles, ids, include)
        return {aid: chroma.to_article(aid, doc, meta) for aid, doc, meta in rows}

    def article_states(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """For stored ids among ``ids``: (content_hash, fingerprint they were indexed with)."""
        self._open(create=False)
        return {
            aid: (str(meta.get("content_hash", "")), str(meta.get("indexed_with", "")))
            for aid, _, meta in _by_ids(self._articles, ids, ["metadatas"])
        }

    def article_paths(self, ids: Sequence[str] | None = None) -> dict[str, str]:
        """Every stored article id (or those among ``ids``) with the file it was last read from."""
        self._open(create=False)
        rows = _scan(self._articles, ["metadatas"]) if ids is None else _by_ids(self._articles, ids, ["metadatas"])
        return {aid: str(meta.get("path", "")) for aid, _, meta in rows}

    def stale_articles(self) -> list[Article]:
        """Stored articles indexed with another embedder or chunking (left over by an interrupted rebuild)."""
        self._open(create=False)
        result = self._articles.get(
            where={"indexed_with": {"$ne": self.fingerprint}}, include=["documents", "metadatas"]
        )
        return [
            chroma.to_article(a, d, m)
            for a, d, m in zip(result["ids"], result["documents"], result["metadatas"], strict=True)
        ]

    def chunk_ids_of(self, article_ids: Sequence[str]) -> dict[str, set[str]]:
        self._open(create=False)
        owned: dict[str, set[str]] = {aid: set() for aid in article_ids}
        for lo in range(0, len(article_ids), 500):
            part = list(article_ids[lo : lo + 500])
            result = self._chunks.get(where={"article_id": {"$in": part}}, include=["metadatas"])
            for cid, meta in zip(result["ids"], result["metadatas"], strict=True):
                owned.setdefault(str(meta["article_id"]), set()).add(cid)
        return owned

    def orphan_chunk_ids(self) -> list[str]:
        """Chunks whose article record is missing (an ingest killed between the two writes)."""
        known = set(self.article_paths())
        return [c.id for c in self.iter_chunks() if c.article_id not in known]


Row = tuple[str, Any, Any]  # (id, document or None, metadata)


def _rows(result: dict[str, Any], include: list[str]) -> Iterator[Row]:
    docs = result["documents"] if "documents" in include else [None] * len(result["ids"])
    yield from zip(result["ids"], docs, result["metadatas"], strict=True)


def _scan(collection: Any, include: list[str]) -> Iterator[Row]:
    """Every record of ``collection``, fetched ``_PAGE`` at a time."""
    offset = 0
    while True:
        page = collection.get(include=include, limit=_PAGE, offset=offset)
        if not page["ids"]:
            return
        yield from _rows(page, include)
        offset += len(page["ids"])


def _by_ids(collection: Any, ids: Sequence[str], include: list[str]) -> Iterator[Row]:
    """The stored records among ``ids``, asked for ``_PAGE`` ids at a time."""
    for lo in range(0, len(ids), _PAGE):
        yield from _rows(collection.get(ids=list(ids[lo : lo + _PAGE]), include=include), include)
