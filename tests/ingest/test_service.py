"""The façade every edge calls: one ``Newsdesk`` ingests, answers, lists and deletes over a real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.service import Newsdesk, build_service
from rag.errors import EmptyIndexError
from rag.filters import Filters
from rag.records import Answer
from rag.settings import Settings
from rag.streaming import AnswerStream

pytestmark = pytest.mark.integration


@pytest.fixture
def service(settings: Settings, embedder: object) -> Newsdesk:
    return build_service(settings, embedder=embedder)  # type: ignore[arg-type]


def test_ingest_status_ask_list_delete(service: Newsdesk, tiny_corpus: Path) -> None:
    report = service.ingest([tiny_corpus])
    assert report.exit_code == 0 and report.added == 6
    status = service.status()
    assert status.articles == 6 and status.chunks >= 6
    ids = [a.id for a in service.articles()]
    assert ids == sorted(ids) and "ports.txt" in ids
    assert service.article_ids() == ids  # the same ids, read without the texts

    answer = service.ask("How many containers did the Port of Rotterdam handle?")
    assert isinstance(answer, Answer) and not answer.refused
    assert answer.citations and answer.citations[0].article_id == "ports.txt"
    stream = AnswerStream(service.stream("How many containers did the Port of Rotterdam handle?"))
    assert "".join(stream) == answer.text and stream.final().citations == answer.citations

    before = service.generation()
    assert service.delete(["ports.txt", "no-such-article"]) == 1
    assert service.generation() != before  # readers reload their BM25
    assert "ports.txt" not in [a.id for a in service.articles()]
    assert service.article("ports.txt") is None
    assert service.status().articles == 5
    assert "ports.txt" not in service.article_ids() and len(service.article_ids()) == 5
    after = service.ask("How many containers did the Port of Rotterdam handle?")
    assert all(p.chunk.article_id != "ports.txt" for p in after.passages)
    assert all(p.chunk.article_id != "ports.txt" for p in service.retrieve("Rotterdam containers", k=10))


def test_filters_and_sources_through_the_service(service: Newsdesk, tiny_corpus: Path) -> None:
    service.ingest([tiny_corpus])
    assert "Springfield Herald" in service.sources()
    passages = service.retrieve("bike lanes", filters=Filters(sources=("Springfield Herald",)))
    assert passages and {p.chunk.source for p in passages} == {"Springfield Herald"}


def test_an_empty_store_says_what_to_do(service: Newsdesk) -> None:
    assert service.status().articles == 0
    with pytest.raises(EmptyIndexError, match="newsdesk ingest"):
        service.ask("Anything?")


def test_reading_and_deleting_before_the_first_ingest_create_no_store(service: Newsdesk, settings: Settings) -> None:
    assert service.article_ids() == []
    assert service.article("anything") is None
    assert service.delete(["anything"]) == 0
    assert not settings.chroma_path.exists()  # a mistyped data dir is not turned into an empty store


def test_the_catalog_lists_every_article_without_text_newest_first_with_its_chunks(
    service: Newsdesk, tiny_corpus: Path
) -> None:
    assert service.catalog() == []  # before the first ingest: nothing, and no store created
    service.ingest([tiny_corpus])
    rows = service.catalog()
    assert sorted(a.id for a, _ in rows) == service.article_ids()
    assert all(a.text == "" for a, _ in rows)  # metadata only: listing a large store reads no texts
    assert all(n >= 1 for _, n in rows) and sum(n for _, n in rows) == service.status().chunks
    keys = [(a.published_at, a.id) for a, _ in rows]
    assert keys == sorted(keys, reverse=True)
    council = next(a for a, _ in rows if a.id == "council.md")
    assert council.source == "Springfield Herald" and council.title
