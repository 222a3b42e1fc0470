"""Incremental ingest: read → chunk → embed only what is new → write chunks, then article records → BM25.

Order matters for crash safety. Chunks are written before their article record, and the record (with its
content hash) is what marks an article as done; a run killed anywhere is finished by running it again, and
chunk ids are derived from content, so nothing is embedded twice or left duplicated.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ingest.chunking import chunk_article
from ingest.sources import FileDone, Item, Note, Rejected, read_paths
from ingest.story_index import StoryIndex, Synced
from rag.embedder import MiniLMEmbedder
from rag.errors import StoreError
from rag.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_PARTLY_REJECTED
from rag.lexical import LexicalIndex
from rag.records import Article, indexed_text
from rag.settings import Settings
from rag.store import Store

GROUP_CHUNKS = 256  # chunks embedded and written together: big enough to batch well, small enough to lose little



@dataclass
class IngestReport:
    """What one ingest did; ``exit_code`` is the CLI's status."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    reindexed: int = 0
    chunks_written: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    rejected: list[Rejected] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    stories: Synced | None = None  # what re-grouping did (None: NEWSDESK_STORIES=false); not in ``as_dict``

    @property
    def accepted(self) -> int:
        return self.added + self.updated + self.unchanged

    @property
    def exit_code(self) -> int:
        if not self.rejected:
            return EXIT_OK
        return EXIT_PARTLY_REJECTED if self.accepted else EXIT_ERROR

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "reindexed": self.reindexed,
            "rejected": [{"where": r.where, "reason": r.reason} for r in self.rejected],
            "notes": [{"where": n.where, "message": n.message} for n in self.notes],
            "chunks_written": self.chunks_written,
            "chunks_embedded": self.chunks_embedded,
            "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
        }


Progress = Callable[[int, int], None]  # (articles seen so far, chunks embedded so far)


def content_hash(article: Article) -> str:
    """Hash of everything about an article that ends up in the store (the path is not: moving a file is free)."""
    payload = json.dumps(
        [article.title, article.text, article.url, article.source, article.published_at, list(article.authors)]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class IngestBusyError(StoreError):
    """The data dir's ingest lock is held by another ingest or delete: a reason to wait, not to give up."""


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    """One ingest per data dir at a time; readers are never blocked."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handle = (data_dir / "ingest.lock").open("w")
    except OSError as exc:
        raise StoreError(
            f"Cannot write to the data folder {data_dir}: {exc.strerror or exc}. "
            "Point NEWSDESK_DATA_DIR at a folder you can write to."
        ) from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IngestBusyError(
                f"Another `newsdesk ingest` is running on {data_dir}; wait for it to finish, then run yours."
            ) from exc
        yield


class Indexer:
    """Brings the store in step with a set of files."""

    def __init__(
        self, settings: Settings, embedder: MiniLMEmbedder, store: Store, lexical: LexicalIndex,
        stories: StoryIndex | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.lexical = lexical
        self.stories = stories  # re-grouped after every run and delete, under the same lock

    def run(
        self, paths: list[Path], prune: bool = False, rebuild: bool = False, progress: Progress | None = None,
        extra: Iterable[Item] = (),
    ) -> IngestReport:
        """Ingest ``paths``; with ``prune``, drop stored articles from under them that are gone;
        with ``rebuild``, re-index every stored article with the current embedder and chunking.
        ``extra`` items (feeds and pages from ingest/feeds.py) are ingested after the paths' and never pruned."""
        started = time.perf_counter()
        report = IngestReport()
        with ingest_lock(self.settings.data_dir):
            if rebuild:
                self.store.drop_chunks()
            self.store.open_for_writing()
            self._changed = False
            batch = _Batch()
            seen: dict[str, str] = {}
            same_text: dict[str, str] = {}  # sha256 of an article's text → the first id read with it
            complete_files: set[str] = set()
            read_files: set[str] = set()
            articles_seen = 0

            for stale in self.store.stale_articles():
                batch.add(stale, stale=True)
                if batch.ready(self):
                    self._flush(batch, report, progress, articles_seen)
            for item in itertools.chain(read_paths(paths), extra):  # extra: the feeds/URLs hook
                if isinstance(item, Rejected):
                    report.rejected.append(item)
                elif isinstance(item, Note):
                    report.notes.append(item)
                elif isinstance(item, FileDone):
                    read_files.add(item.path)
                    if item.complete:
                        complete_files.add(item.path)
                elif item.id in seen:
                    report.rejected.append(
                        Rejected(item.id, f"duplicate article id (also in {seen[item.id]}); kept the first")
                    )
                else:
                    seen[item.id] = item.path
                    # Two names for one text stay two articles (questions may cite either); the user should know.
                    # Headline-only links have no text at all: that is not "the same text" as another link.
                    digest = hashlib.sha256(item.text.encode("utf-8")).hexdigest() if item.text.strip() else item.id
                    first = same_text.setdefault(digest, item.id)
                    if first != item.id:
                        report.notes.append(Note(item.id, f"same text as {first}; both are kept"))
                    articles_seen += 1
                    batch.add(item)
                    if batch.ready(self):
                        self._flush(batch, report, progress, articles_seen)
            self._flush(batch, report, progress, articles_seen)
            if prune:
                self._prune(paths, seen, complete_files, report)
            self._finish(report)
        report.seconds = time.perf_counter() - started
        return report

    def delete(self, article_ids: list[str]) -> int:
        """Remove the stored articles among ``article_ids`` (chunks first, then records; BM25 rebuilt); how
        many there were. Unknown ids are ignored."""
        with ingest_lock(self.settings.data_dir):
            self.store.open_for_writing()
            stored = list(self.store.article_paths(article_ids))
            self._changed = bool(stored)
            if stored:
                self.store.mark_changed()  # readers' BM25 is behind until _finish rebuilds it
                self.store.delete_articles(stored)
            self._finish(IngestReport())
        return len(stored)

    def _flush(self, batch: _Batch, report: IngestReport, progress: Progress | None, articles_seen: int) -> None:
        if not batch.articles:
            return
        articles, stale_ids = batch.articles, batch.stale_ids
        batch.clear()
        states = self.store.article_states([a.id for a in articles])
        changed: list[Article] = []
        unchanged: list[Article] = []
        for article in articles:
            state = states.get(article.id)
            digest = content_hash(article)
            if state == (digest, self.store.fingerprint):
                report.unchanged += 1
                unchanged.append(article)
                continue
            changed.append(article)
            if article.id in stale_ids:
                report.reindexed += 1
            elif state is None:
                report.added += 1
            else:
                report.updated += 1
        if changed:
            self._write(changed, report)
        if unchanged:
            # A moved file keeps its vectors (the path is not hashed), but --prune must look for it where it is now.
            stored = self.store.article_paths([a.id for a in unchanged])
            moved = {a.id: a.path for a in unchanged if a.path and stored.get(a.id) != a.path}
            if moved:
                self.store.move_articles(moved)
        if progress:
            progress(articles_seen, report.chunks_embedded)

    def _write(self, articles: list[Article], report: IngestReport) -> None:
        if not self._changed:
            self.store.mark_changed()  # readers' BM25 is now behind until _finish rebuilds it
            self._changed = True
        chunks = [
            c
            for a in articles
            for c in chunk_article(a, self.settings.chunk_tokens, self.settings.chunk_overlap, self.embedder.fits)
        ]
        owned = self.store.chunk_ids_of([a.id for a in articles])
        existing = set().union(*owned.values()) if owned else set()
        new = [c for c in chunks if c.id not in existing]
        kept = [c for c in chunks if c.id in existing]
        if new:
            t0 = time.perf_counter()
            vectors = self.embedder.embed_array([indexed_text(c.title, c.text) for c in new])
            report.embed_seconds += time.perf_counter() - t0
            self.store.write_chunks(new, vectors.tolist())
            report.chunks_embedded += len(new)
        if kept:
            self.store.update_chunk_meta(kept)
        wanted = {c.id for c in chunks}
        self.store.delete_chunks(sorted(existing - wanted))
        self.store.write_articles(articles, [content_hash(a) for a in articles])
        report.chunks_written += len(chunks)

    def _prune(self, paths: list[Path], seen: dict[str, str], complete_files: set[str], report: IngestReport) -> None:
        roots = [str(p.resolve()) for p in paths if p.exists()]
        doomed = []
        for article_id, path in self.store.article_paths().items():
            if article_id in seen or not path:
                continue
            under = any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)
            # Gone from disk, or its file was read in full and no longer holds it; a file that failed to read
            # this time keeps its articles (nothing stored is lost to a transient error).
            if under and (not Path(path).exists() or path in complete_files):
                doomed.append(article_id)
        orphans = self.store.orphan_chunk_ids()
        if doomed or orphans:
            if not self._changed:
                self.store.mark_changed()
                self._changed = True
            self.store.delete_articles(doomed)
            self.store.delete_chunks(orphans)
        report.removed = len(doomed)

    def _finish(self, report: IngestReport) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        _, chunk_count = self.store.counts()
        behind = (
            not self.lexical.load()
            or self.lexical.generation != self.store.info().get("generation")
            or len(self.lexical) != chunk_count
        )
        generation = self.store.mark_changed(last_ingest=now, new_generation=self._changed)
        if self._changed or behind:
            self.lexical.build(self.store.iter_chunks(), generation)
        if self.stories is not None:
            report.stories = self.stories.sync(self.store)


class _Batch:
    """Articles waiting to be embedded together; a later copy of an id (fresh from disk) replaces a stale one."""

    def __init__(self) -> None:
        self.pending: dict[str, Article] = {}
        self.stale_ids: set[str] = set()
        self.chars = 0

    @property
    def articles(self) -> list[Article]:
        return list(self.pending.values())

    def add(self, article: Article, stale: bool = False) -> None:
        if stale:
            self.stale_ids.add(article.id)
        else:
            self.stale_ids.discard(article.id)
        self.pending[article.id] = article
        self.chars += len(article.text)

    def ready(self, indexer: Indexer) -> bool:
        # ~4 characters a token: flush once the group would make about GROUP_CHUNKS chunks.
        step = max(1, indexer.settings.chunk_tokens - indexer.settings.chunk_overlap) * 4
        return self.chars // step >= GROUP_CHUNKS or len(self.pending) >= 512

    def clear(self) -> None:
        self.pending, self.stale_ids, self.chars = {}, set(), 0
