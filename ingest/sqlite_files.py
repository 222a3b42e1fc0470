"""The data dir's small SQLite files (jobs, saved chats): one way to open them, one error that says the fix."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from rag.errors import StoreError


@contextmanager
def transaction(path: Path, schema: str, what: str, *, foreign_keys: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to ``path`` (its folder made, ``schema`` applied, WAL on, rows by name) that commits when
    the block ends, or a ``StoreError`` naming ``what`` could not be opened. One connection per call, so any
    thread may use it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=30)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(
            f"Cannot open {what} {path}: {exc}. Point NEWSDESK_DATA_DIR at a folder you can write to."
        ) from exc
    with closing(connection):
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        if foreign_keys:
            connection.execute("PRAGMA foreign_keys=ON")
        connection.executescript(schema)
        with connection:
            yield connection
