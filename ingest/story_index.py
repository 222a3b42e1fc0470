"""The story groups of one collection, kept in the data dir (``<data_dir>/stories/<collection>.sqlite``).

``sync`` brings the groups in step with the store after every ingest and delete: only new and changed articles
are shingled and signed, deleted ones are removed, and the stories are re-linked from the stored signatures
(``ingest.stories``). An article's signature leaves out the corpus's boilerplate shingles, and what is
boilerplate moves as articles come and go, so each article's shingle hashes are kept too: an article is
re-signed only when it holds a shingle that became or stopped being common. A store that predates this file
gets its groups on its next ingest. ``stories_of`` is the ``rag.roles.StoryMap`` the retrieval stage reads;
it opens the file per call, so another process's ingest is seen at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ingest.stories import (
    Doc,
    MinHasher,
    Signed,
    StoryConfig,
    common_shingles,
    coverage_pairs,
    link_stories,
    shingles,
    sign,
)
from rag.errors import StoreError
from rag.records import Article, Reported, Story

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, hash TEXT NOT NULL, published_at TEXT NOT NULL, url TEXT NOT NULL, title TEXT NOT NULL,
    source TEXT NOT NULL, shingles BLOB NOT NULL, signature BLOB, size INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS stories (article_id TEXT PRIMARY KEY, story TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS stories_by_story ON stories (story);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS leads (id TEXT PRIMARY KEY, vector BLOB NOT NULL);
"""
_BATCH = 256  # article texts read from the store at a time
_PARAMS = 500  # ids per SQL IN (...), well under SQLite's limit


class ArticleSource(Protocol):
    """What syncing reads from the store: each article's content hash, the changed texts, the generation."""

    def exists(self) -> bool: ...

    def info(self) -> dict[str, Any]: ...

    def article_paths(self, ids: Sequence[str] | None = None) -> dict[str, str]: ...

    def article_states(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]: ...

    def articles(self, ids: Sequence[str] | None = None) -> dict[str, Article]: ...

    def lead_vectors(self, article_ids: Sequence[str]) -> dict[str, list[float]]: ...


@dataclass(frozen=True)
class Synced:
    """What one ``sync`` did."""

    signed: int = 0  # articles shingled (new or changed)
    removed: int = 0
    groups: int = 0  # stories told by two or more articles
    grouped: int = 0  # articles in them


class StoryIndex:
    """The story groups of one collection in a SQLite file; ``sync`` writes, ``stories_of`` reads."""

    def __init__(self, path: Path, config: StoryConfig | None = None) -> None:
        self.path = path
        self.config = config or StoryConfig()
        self._hasher = MinHasher(self.config)

    # --- reading (rag.roles.StoryMap) ------------------------------------------------------------------
    def stories_of(self, article_ids: Sequence[str]) -> dict[str, Story]:
        """The story of each of ``article_ids`` that has other members (none before the first sync)."""
        if not article_ids or not self.path.is_file():
            return {}
        rows: list[tuple[str, str, str, str, str, str]] = []
        with self._read() as db:
            for lo in range(0, len(article_ids), _PARAMS):
                part = list(article_ids[lo : lo + _PARAMS])
                rows += db.execute(
                    "SELECT s.story, s.article_id, a.title, a.source, a.url, a.published_at FROM stories s "
                    "JOIN articles a ON a.id = s.article_id WHERE s.story IN (SELECT story FROM stories WHERE "
                    f"article_id IN ({','.join('?' * len(part))})) ORDER BY s.story, s.article_id", part,
                ).fetchall()
        members: dict[str, list[Reported]] = {}
        for story, *member in rows:
            members.setdefault(story, []).append(Reported(*member))
        wanted = set(article_ids)
        return {m.article_id: Story(story, tuple(group)) for story, group in members.items()
                for m in group if m.article_id in wanted}

    def groups(self) -> list[list[str]]:
        """Every story of two or more articles, as sorted member ids (for eval and tests)."""
        if not self.path.is_file():
            return []
        with self._read() as db:
            return _groups(db)

    def addresses(self) -> dict[str, str]:
        """Every grouped-over article id with its web address ("" when it has none)."""
        if not self.path.is_file():
            return {}
        with self._read() as db:
            return dict(db.execute("SELECT id, url FROM articles").fetchall())

    # --- writing ---------------------------------------------------------------------------------------
    def sync(self, store: ArticleSource) -> Synced:
        """Bring the groups in step with ``store``: sign what is new or changed, forget what is gone, re-link.
        Nothing is read from the store's texts when its generation has not moved since the last sync."""
        if not store.exists():
            return Synced()
        generation = str(store.info().get("generation", ""))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create {self.path.parent} for the story groups: {exc.strerror or exc}.") from exc
        with self._write() as db:
            reconfigured = _meta(db, "config") != self._config_key()
            if _meta(db, "generation") == generation.encode() and not reconfigured:
                groups = _groups(db)
                return Synced(groups=len(groups), grouped=sum(map(len, groups)))
            if reconfigured:
                db.execute("UPDATE articles SET signature = NULL")  # other knobs: every signature is stale
            hashes = {aid: state[0] for aid, state in store.article_states(sorted(store.article_paths())).items()}
            known = dict(db.execute("SELECT id, hash FROM articles").fetchall())
            gone = [aid for aid in known if aid not in hashes]
            todo = [aid for aid, digest in hashes.items() if known.get(aid) != digest]
            db.executemany("DELETE FROM articles WHERE id = ?", [(aid,) for aid in gone])
            for lo in range(0, len(todo), _BATCH):
                found = store.articles(todo[lo : lo + _BATCH])
                db.executemany(
                    "INSERT OR REPLACE INTO articles (id, hash, published_at, url, title, source, shingles) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(a.id, hashes[a.id], a.published_at, a.url, a.title, a.source,
                      shingles(a.text, self.config.shingle).astype(np.uint32).tobytes()) for a in found.values()],
                )
            db.executemany("DELETE FROM leads WHERE id = ?", [(aid,) for aid in gone + todo])
            # Lead vectors of new and changed articles, and of any stored before grouping read them.
            missing = [aid for (aid,) in db.execute(
                "SELECT id FROM articles WHERE id NOT IN (SELECT id FROM leads) ORDER BY id")]
            leads = store.lead_vectors(missing) if missing else {}
            # An article with no first chunk (a link with no text) is stored with an empty vector, so it is not
            # asked for again at every ingest.
            db.executemany("INSERT OR REPLACE INTO leads (id, vector) VALUES (?, ?)",
                           [(aid, np.asarray(leads.get(aid, ()), dtype=np.float32).tobytes()) for aid in missing])
            changed = gone or todo or reconfigured or leads
            groups = self._relink(db) if changed else _groups(db)
            _set_meta(db, "generation", generation.encode())
            _set_meta(db, "config", self._config_key())
        return Synced(signed=len(todo), removed=len(gone), groups=len(groups), grouped=sum(map(len, groups)))

    def _relink(self, db: sqlite3.Connection) -> list[list[str]]:
        """Re-sign the articles whose own shingles changed, then link every stored article into stories."""
        rows = db.execute(
            "SELECT id, published_at, url, shingles, signature, size FROM articles ORDER BY id"
        ).fetchall()
        sets = [np.frombuffer(row[3], dtype=np.uint32).astype(np.uint64) for row in rows]
        common = common_shingles(sets, self.config)
        before = _meta(db, "common")
        flipped = np.setxor1d(common, np.frombuffer(before, dtype=np.uint64) if before else common[:0])
        signed: list[Signed] = []
        resigned = []
        for (aid, day, url, _, signature, size), hashed in zip(rows, sets, strict=True):
            if signature is None or (flipped.size and np.isin(hashed, flipped).any()):
                one = sign(Doc(aid, "", day, url), hashed, common, self._hasher)
                resigned.append((one.signature.tobytes(), one.size, aid))
            else:
                one = Signed(aid, day, Doc(aid, "", day, url).page, np.frombuffer(signature, dtype=np.uint64), size)
            signed.append(one)
        db.executemany("UPDATE articles SET signature = ?, size = ? WHERE id = ?", resigned)
        _set_meta(db, "common", common.astype(np.uint64).tobytes())
        leads = dict(db.execute("SELECT id, vector FROM leads").fetchall())
        outlets = dict(db.execute("SELECT id, source FROM articles").fetchall())
        vectors = np.zeros((len(rows), _dimension(leads)), dtype=np.float32)
        for n, row in enumerate(rows):
            if leads.get(row[0]):
                vectors[n] = np.frombuffer(leads[row[0]], dtype=np.float32)
        covered = coverage_pairs([row[1] for row in rows], [outlets[row[0]] for row in rows], vectors, self.config)
        groups = link_stories(signed, self.config, covered)
        db.execute("DELETE FROM stories")
        # A story is named by its first member id: stable while its members stay.
        db.executemany("INSERT INTO stories (article_id, story) VALUES (?, ?)",
                       [(aid, min(group)) for group in groups for aid in group])
        return groups

    def _config_key(self) -> bytes:
        return repr(sorted(asdict(self.config).items())).encode()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)) as db:
                yield db
        except sqlite3.Error as exc:
            raise StoreError(
                f"The story groups in {self.path} cannot be read ({exc}). Delete that file and run `newsdesk "
                "ingest` to group the articles again, or set NEWSDESK_STORIES=false."
            ) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # Rollback journal, not WAL: a read-only reader of a WAL file needs its -shm file. Readers still read
        # during a sync; they wait (busy timeout) only for the moment it commits.
        try:
            with closing(sqlite3.connect(self.path, timeout=30)) as db:
                db.executescript(_SCHEMA)
                with db:  # one transaction: a sync killed midway leaves the last one's groups
                    yield db
        except sqlite3.Error as exc:
            raise StoreError(
                f"Could not write the story groups to {self.path} ({exc}). The articles themselves are stored; "
                "fix the cause (disk space, permissions) or delete that file, then run `newsdesk ingest` again."
            ) from exc


def _dimension(leads: dict[str, bytes]) -> int:
    return max((len(v) // 4 for v in leads.values()), default=0) or 1


def _groups(db: sqlite3.Connection) -> list[list[str]]:
    found: dict[str, list[str]] = {}
    for story, article_id in db.execute("SELECT story, article_id FROM stories ORDER BY story, article_id"):
        found.setdefault(story, []).append(article_id)
    return list(found.values())


def _meta(db: sqlite3.Connection, key: str) -> bytes | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return bytes(row[0]) if row else None


def _set_meta(db: sqlite3.Connection, key: str, value: bytes) -> None:
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
