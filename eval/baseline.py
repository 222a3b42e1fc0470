"""The naive LangChain pipeline newsdesk is compared with, built from the same stored article texts.

``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`` over every article in the store, the
same MiniLM embedder (chunk text only, no title), cosine top-k from a Chroma collection, and the answer is
the text of the top passage: no hybrid retrieval, no sentence selection, no refusal, no citations.

langchain-chroma is not installed, so the vectors live in a plain ``chromadb`` PersistentClient under
``<data_dir>/baseline/`` in a collection named after what it indexes (each article's text and URL; not titles
or other metadata, so re-titling articles keeps it), the splitter and the embedder.
A re-run over the same articles reuses it; an interrupted build resumes where it stopped (chunk ids are
derived from content); a changed corpus gets a new collection and the old one is dropped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.embedder import MiniLMEmbedder
from rag.errors import EmptyIndexError, StoreError
from rag.records import Article
from rag.store import Store

CHUNK_SIZE, CHUNK_OVERLAP = 1000, 200
BATCH = 256
DESCRIPTION = (
    "naive LangChain RAG: RecursiveCharacterTextSplitter(1000, 200) → MiniLM → Chroma cosine top-k; "
    "answer = top passage"
)

Progress = Callable[[int, int], None]  # (articles done, total articles)


@dataclass(frozen=True)
class Hit:
    """One retrieved baseline chunk."""

    article_id: str
    url: str
    text: str
    score: float


@dataclass(frozen=True)
class BuildInfo:
    """What opening the baseline index cost."""

    collection: str
    articles: int
    chunks: int
    embedded: int
    seconds: float

    @property
    def reused(self) -> bool:
        return self.embedded == 0


def corpus_key(articles: Mapping[str, Article], embedder_id: str) -> str:
    """A digest of every article's text and URL (all the baseline reads of it), the splitter and the embedder:
    the cache key. Headline-only articles have no text to split, so they do not count.

    >>> a, b = Article("a", "Dock workers struck.", url="u"), Article("a", "Dock workers struck.", url="u", title="T")
    >>> corpus_key({"a": a}, "m") == corpus_key({"a": b}, "m"), corpus_key({"a": a}, "m") == corpus_key({"a": a}, "n")
    (True, False)
    >>> corpus_key({"a": a, "link": Article("link", "", url="v", title="T")}, "m") == corpus_key({"a": a}, "m")
    True
    """
    digests = sorted(
        (aid, hashlib.sha256(f"{article.url}\x1f{article.text}".encode()).hexdigest())
        for aid, article in articles.items()
        if article.text
    )
    payload = json.dumps([digests, CHUNK_SIZE, CHUNK_OVERLAP, embedder_id])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def split_article(text: str) -> list[str]:
    """The baseline's chunks of one article text (LangChain's recursive splitter, default separators)."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return [piece for piece in splitter.split_text(text) if piece.strip()]


def _chunk_id(article_id: str, position: int) -> str:
    return f"{hashlib.sha256(article_id.encode('utf-8')).hexdigest()[:20]}:{position}"


class Baseline:
    """Build (or reuse) the baseline index for the articles in ``store``, then answer from it."""

    def __init__(self, store: Store, embedder: MiniLMEmbedder, cache_dir: Path) -> None:
        self.store = store
        self.embedder = embedder
        self.cache_dir = cache_dir
        self._collection: Any = None

    def build(self, progress: Progress | None = None) -> BuildInfo:
        """Open the index for the store's current articles, embedding only chunks not already cached."""
        import chromadb

        started = time.perf_counter()
        articles = self.store.articles()
        ids = sorted(articles)
        if not ids:
            raise EmptyIndexError("The baseline has no articles to index; ingest a corpus first.")
        key = corpus_key(articles, self.embedder.id)
        name = f"baseline-{key[:40]}"
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(
                path=str(self.cache_dir), settings=chromadb.Settings(anonymized_telemetry=False)
            )
        except Exception as exc:
            raise StoreError(f"Cannot open the baseline index in {self.cache_dir} ({exc}); check the folder.") from exc
        for old in client.list_collections():
            old_name = str(getattr(old, "name", old))
            if old_name != name:  # another corpus's index: never read again, so don't keep its vectors
                client.delete_collection(old_name)
        collection = client.get_or_create_collection(
            name, embedding_function=None, metadata={"complete": False, "articles": len(ids)},
            configuration={"hnsw": {"space": "cosine"}},
        )
        embedded = 0
        if not (collection.metadata or {}).get("complete"):
            embedded = self._fill(collection, [articles[aid] for aid in ids], progress)
            collection.modify(metadata={"complete": True, "articles": len(ids)})
        self._collection = collection
        return BuildInfo(name, len(ids), int(collection.count()), embedded, time.perf_counter() - started)

    def _fill(self, collection: Any, articles: list[Article], progress: Progress | None) -> int:
        present: set[str] = set()
        offset = 0
        while True:
            page = collection.get(include=[], limit=5000, offset=offset)
            if not page["ids"]:
                break
            present.update(page["ids"])
            offset += len(page["ids"])
        pending: list[tuple[str, str, dict[str, Any]]] = []
        embedded = 0
        for done, article in enumerate(articles, start=1):
            for position, text in enumerate(split_article(article.text)):
                cid = _chunk_id(article.id, position)
                if cid not in present:
                    meta = {"article_id": article.id, "url": article.url, "position": position}
                    pending.append((cid, text, meta))
            if len(pending) >= BATCH or done == len(articles):
                embedded += self._write(collection, pending)
                pending = []
            if progress:
                progress(done, len(articles))
        return embedded

    def _write(self, collection: Any, items: list[tuple[str, str, dict[str, Any]]]) -> int:
        if not items:
            return 0
        vectors = self.embedder.embed_array([text for _, text, _ in items])
        collection.upsert(
            ids=[cid for cid, _, _ in items], documents=[text for _, text, _ in items],
            metadatas=[meta for _, _, meta in items], embeddings=vectors.tolist(),
        )
        return len(items)

    def search(self, question: str, k: int) -> list[Hit]:
        """The ``k`` chunks nearest the question by cosine similarity, best first."""
        if self._collection is None:
            raise RuntimeError("call Baseline.build() before search()")
        # embed_array, not embed_query: the query cache is shared with newsdesk, which asked the same
        # question a moment earlier, and a cache hit would flatter the baseline's latency.
        vector = self.embedder.embed_array([question])[0].tolist()
        result = self._collection.query(
            query_embeddings=[vector], n_results=k, include=["documents", "metadatas", "distances"]
        )
        return [
            Hit(str(meta.get("article_id", "")), str(meta.get("url", "")), doc or "", round(1.0 - float(dist), 6))
            for doc, meta, dist in zip(
                result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]
