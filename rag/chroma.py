"""Chroma plumbing: one client per location per process, and records ↔ Chroma metadata."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import urlparse

from rag.errors import StoreError
from rag.filters import Filters, day_number
from rag.records import Article, Chunk
from rag.settings import Settings

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def client(settings: Settings) -> Any:
    """One Chroma client per location per process (Chroma's PersistentClient insists on it)."""
    import chromadb

    key = settings.chroma_url or str(settings.chroma_path.resolve())
    with _clients_lock:
        if key in _clients:
            return _clients[key]
        chroma_settings = chromadb.Settings(anonymized_telemetry=False)
        try:
            if settings.chroma_url:
                url = urlparse(settings.chroma_url)
                if url.scheme not in {"http", "https"} or not url.hostname:
                    raise StoreError(
                        f"NEWSDESK_CHROMA_URL={settings.chroma_url!r} is not a server address; use http://host:port"
                    )
                client = chromadb.HttpClient(
                    host=url.hostname,
                    port=url.port or (443 if url.scheme == "https" else 8000),
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
                client.heartbeat()
            else:
                settings.chroma_path.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
        except StoreError:
            raise
        except PermissionError as exc:
            raise StoreError(
                f"Cannot write to the data folder {settings.data_dir}: {exc.strerror}. "
                "Point NEWSDESK_DATA_DIR at a folder you can write to."
            ) from exc
        except Exception as exc:
            where = settings.chroma_url or str(settings.chroma_path)
            if not settings.chroma_url and "readonly database" in str(exc):  # SQLite's SQLITE_READONLY
                raise StoreError(
                    f"The store at {where} is read-only. Chroma writes to its folder even to read, so make "
                    f"{settings.data_dir} writable, or copy it somewhere writable and point NEWSDESK_DATA_DIR there."
                ) from exc
            raise StoreError(
                f"Cannot open the Chroma store at {where} ({type(exc).__name__}: {exc}). "
                + ("Is `chroma run` up at that address?" if settings.chroma_url else "Check NEWSDESK_DATA_DIR.")
            ) from exc
        _clients[key] = client
        return client


def forget_clients() -> None:
    """Drop the cached clients, as a new process would start (tests; switching data dirs in one process)."""
    with _clients_lock:
        _clients.clear()


def where(filters: Filters) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if filters.sources:
        clauses.append({"source": {"$in": list(filters.sources)}})
    if filters.since:
        clauses.append({"day": {"$gte": day_number(filters.since)}})
    if filters.until:
        clauses.append({"day": {"$lte": day_number(filters.until)}})
    if filters.since or filters.until:  # an article with no known date is outside every date range
        clauses.append({"day": {"$gt": 0}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def chunk_meta(chunk: Chunk) -> dict[str, Any]:
    return {
        "article_id": chunk.article_id,
        "position": chunk.position,
        "start": chunk.start,
        "end": chunk.end,
        "title": chunk.title,
        "url": chunk.url,
        "source": chunk.source,
        "published_at": chunk.published_at,
        "day": day_number(chunk.published_at),
    }


def to_chunk(cid: str, doc: str | None, meta: Any) -> Chunk:
    meta = meta or {}
    return Chunk(
        id=cid,
        article_id=str(meta.get("article_id", "")),
        position=int(meta.get("position", 0)),
        text=doc or "",
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        title=str(meta.get("title", "")),
        url=str(meta.get("url", "")),
        source=str(meta.get("source", "")),
        published_at=str(meta.get("published_at", "")),
    )


def article_meta(article: Article, content_hash: str, fingerprint: str, now: str) -> dict[str, Any]:
    return {
        "title": article.title,
        "url": article.url,
        "source": article.source,
        "published_at": article.published_at,
        "day": day_number(article.published_at),
        "authors": json.dumps(list(article.authors)),
        "path": article.path,
        "content_hash": content_hash,
        "indexed_with": fingerprint,
        "ingested_at": now,
    }


def to_article(aid: str, doc: str | None, meta: Any) -> Article:
    meta = meta or {}
    return Article(
        id=aid,
        text=doc or "",
        title=str(meta.get("title", "")),
        url=str(meta.get("url", "")),
        source=str(meta.get("source", "")),
        published_at=str(meta.get("published_at", "")),
        authors=tuple(json.loads(meta.get("authors") or "[]")),
        path=str(meta.get("path", "")),
    )
