"""The store's write side (``rag.roles.StoreWriter``): upserts in batches the server accepts, deletes chunks
before their records, and the generation readers watch to reload BM25. Mixed into ``rag.store.Store``."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rag import chroma
from rag.records import Article, Chunk
from rag.settings import Settings


class StoreWrites:
    """Writing methods of ``Store``; they rely on its open collections and its read methods below."""

    settings: Settings
    _chunks: Any
    _articles: Any
    _lock: threading.Lock

    def _open(self, create: bool) -> None:
        raise NotImplementedError

    def info(self) -> dict[str, Any]:
        raise NotImplementedError

    def chunk_ids_of(self, article_ids: Sequence[str]) -> dict[str, set[str]]:
        raise NotImplementedError

    @property
    def fingerprint(self) -> str:
        raise NotImplementedError

    def write_chunks(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        self._open(create=True)
        step = self._batch()
        for lo in range(0, len(chunks), step):
            part = chunks[lo : lo + step]
            self._chunks.upsert(
                ids=[c.id for c in part],
                embeddings=[list(e) for e in embeddings[lo : lo + step]],
                documents=[c.text for c in part],
                metadatas=[chroma.chunk_meta(c) for c in part],
            )

    def write_articles(self, articles: Sequence[Article], content_hashes: Sequence[str]) -> None:
        self._open(create=True)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        step = self._batch()
        for lo in range(0, len(articles), step):
            part = articles[lo : lo + step]
            self._articles.upsert(
                ids=[a.id for a in part],
                embeddings=[[1.0]] * len(part),
                documents=[a.text for a in part],
                metadatas=[
                    chroma.article_meta(a, h, self.fingerprint, now)
                    for a, h in zip(part, content_hashes[lo : lo + step], strict=True)
                ],
            )

    def delete_chunks(self, ids: Sequence[str]) -> None:
        self._open(create=True)
        step = self._batch()
        for lo in range(0, len(ids), step):
            self._chunks.delete(ids=list(ids[lo : lo + step]))

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        """Chunks first, then the record, so a crash in between leaves an orphan-free retry."""
        owned = self.chunk_ids_of(article_ids)
        self.delete_chunks([cid for ids in owned.values() for cid in ids])
        step = self._batch()
        for lo in range(0, len(article_ids), step):
            self._articles.delete(ids=list(article_ids[lo : lo + step]))

    def move_articles(self, paths: dict[str, str]) -> None:
        """Record the new file of articles whose content did not change (their chunks and vectors stay)."""
        self._open(create=True)
        ids, step = list(paths), self._batch()
        for lo in range(0, len(ids), step):
            part = ids[lo : lo + step]
            self._articles.update(ids=part, metadatas=[{"path": paths[aid]} for aid in part])

    def update_chunk_meta(self, chunks: Sequence[Chunk]) -> None:
        """New metadata (url, source, date, position) for chunks whose text and vector stay the same."""
        self._open(create=True)
        step = self._batch()
        for lo in range(0, len(chunks), step):
            part = chunks[lo : lo + step]
            self._chunks.update(ids=[c.id for c in part], metadatas=[chroma.chunk_meta(c) for c in part])

    def mark_changed(self, last_ingest: str | None = None, new_generation: bool = True) -> str:
        """Give the chunk collection a new generation (readers reload BM25 when it moves)."""
        self._open(create=True)
        meta = self.info()
        if new_generation or not meta.get("generation"):
            meta["generation"] = uuid.uuid4().hex
        if last_ingest is not None:
            meta["last_ingest"] = last_ingest
        self._chunks.modify(metadata=meta)
        return str(meta["generation"])

    def drop_chunks(self) -> None:
        """Delete the chunk collection (``--rebuild``); article records and their texts stay.

        The records are first marked as indexed with nothing, so the next ingest re-indexes every one of them
        from its stored text: even when the settings did not change, and even when this run is interrupted.
        """
        client = chroma.client(self.settings)
        step = self._batch()
        with self._lock:
            names = {getattr(c, "name", c) for c in client.list_collections()}
            if f"{self.settings.collection}-articles" in names:
                articles = client.get_collection(f"{self.settings.collection}-articles", embedding_function=None)
                ids = articles.get(include=[])["ids"]
                for lo in range(0, len(ids), step):
                    part = ids[lo : lo + step]
                    articles.update(ids=part, metadatas=[{"indexed_with": ""}] * len(part))
            if self.settings.collection in names:
                client.delete_collection(self.settings.collection)
            self._chunks = None
            self._articles = None

    def _batch(self) -> int:
        try:
            return max(1, min(1000, int(chroma.client(self.settings).get_max_batch_size())))
        except Exception:
            return 500
