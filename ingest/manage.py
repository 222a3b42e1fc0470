"""Removing articles: the record, its chunks and its BM25 entries, under the same lock as an ingest."""

from __future__ import annotations

from collections.abc import Sequence

from ingest.indexer import ingest_lock
from rag.lexical import LexicalIndex
from rag.settings import Settings
from rag.store import Store


def delete_articles(settings: Settings, store: Store, article_ids: Sequence[str]) -> list[str]:
    """Delete the stored articles among ``article_ids``; the ids that were deleted (unknown ones are skipped).

    The BM25 index is rebuilt before returning and the store's generation moves, so every reader (other
    sessions, other processes) reloads it before its next question.
    """
    with ingest_lock(settings.data_dir):
        known = [aid for aid in dict.fromkeys(article_ids) if aid in store.article_paths(list(article_ids))]
        if not known:
            return []
        store.mark_changed()  # readers' BM25 is behind from here until the rebuild below
        store.delete_articles(known)
        generation = store.mark_changed()
        LexicalIndex(settings.lexical_dir).build(store.iter_chunks(), generation)
    return known
