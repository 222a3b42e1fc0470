"""The Chroma store, embedded and as a real `chroma run` server: counts, filters, provenance checks, crash
recovery, and the same ingest working against both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.chunking import chunk_article
from ingest.indexer import Indexer, IngestReport
from ingest.sources import read_paths
from rag import store as store_module
from rag.embedder import MiniLMEmbedder
from rag.errors import EmptyIndexError, IndexMismatchError, StoreError
from rag.filters import Filters, day_number
from rag.pipeline import Pipeline, build_pipeline
from rag.records import Article, indexed_text
from rag.settings import Settings
from rag.store import Store
from tests.conftest import IngestPaths
from tests.servers.ports import free_port

pytestmark = pytest.mark.integration


def _query(pipeline: Pipeline, text: str, n: int = 10, filters: Filters = Filters()) -> list[str]:
    return [p.chunk.article_id for p in pipeline.store.query(pipeline.embedder.embed_query(text), n, filters)]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("iso", "number"), [("2022-06-12", 20220612), ("2022-06-12T10:00:00", 20220612), ("", 0), ("2022", 0)]
)
def test_day_number(iso: str, number: int) -> None:
    assert day_number(iso) == number


def test_an_empty_store_says_how_to_fill_it(pipeline: Pipeline) -> None:
    assert not pipeline.store.exists()
    with pytest.raises(EmptyIndexError, match=r"newsdesk ingest PATH"):
        pipeline.store.counts()
    status = pipeline.status()
    assert (status.articles, status.chunks, status.last_ingest) == (0, 0, "")


def test_filters_by_source_and_date_range(pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path) -> None:
    ingest_paths(tiny_corpus)
    question = "news about prices, power, ports and votes"
    assert set(_query(pipeline, question)) == {
        "council.md",
        "ports.txt",
        "storm.html",
        "wire-001",
        "wire-002",
        "wire-003",
    }
    assert set(_query(pipeline, question, filters=Filters(sources=("Example Wire",)))) == {"wire-001", "wire-002"}
    assert set(_query(pipeline, question, filters=Filters(sources=("Example Wire", "Springfield Herald")))) == {
        "wire-001",
        "wire-002",
        "council.md",
    }
    # Undated articles (ports.txt, wire-003) are outside every date range.
    assert set(_query(pipeline, question, filters=Filters(since="2022-06-01"))) == {
        "wire-001",
        "wire-002",
        "storm.html",
    }
    assert set(_query(pipeline, question, filters=Filters(until="2022-06-15"))) == {"council.md", "wire-001"}
    assert set(_query(pipeline, question, filters=Filters(since="2022-06-15", until="2022-06-15"))) == {"wire-001"}
    assert _query(pipeline, question, filters=Filters(sources=("Nobody",))) == []


def test_query_ranks_by_meaning_and_reports_cosine(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path
) -> None:
    ingest_paths(tiny_corpus)
    _assert_cosine_ranking(pipeline)


def _assert_cosine_ranking(pipeline: Pipeline) -> None:
    question = pipeline.embedder.embed_query("Why did borrowing costs go up?")
    passages = pipeline.store.query(question, 50)
    assert passages[0].chunk.article_id == "wire-001"
    assert len(passages) == pipeline.store.counts()[1]  # asking for more than there are returns them all
    scores = [p.scores["dense"] for p in passages]
    assert scores == sorted(scores, reverse=True)
    # The collection measures cosine (not Chroma's default L2): "dense" is the dot product of unit vectors.
    vectors = pipeline.store.get_chunks([p.chunk.id for p in passages], with_vectors=True)
    for passage in passages:
        cosine = float(np.dot(question, vectors[passage.chunk.id][1]))
        assert passage.scores["dense"] == pytest.approx(cosine, abs=1e-3)


def test_get_chunks_and_articles_by_id(pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path) -> None:
    ingest_paths(tiny_corpus)
    chunk = next(iter(pipeline.store.iter_chunks()))
    found = pipeline.store.get_chunks([chunk.id, "no-such-chunk"], with_vectors=True)
    assert list(found) == [chunk.id]
    same, vector = found[chunk.id]
    assert same == chunk and len(vector) == 384
    assert pipeline.store.get_article("no-such-article") is None


def test_a_store_built_by_another_embedder_is_refused(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, settings: Settings
) -> None:
    ingest_paths(tiny_corpus)
    for embedder_id, dimension, field in [("other-model", 384, "embedder"), (pipeline.embedder.id, 768, "dimension")]:
        other = Store(settings, embedder_id, dimension)
        with pytest.raises(IndexMismatchError, match=rf"{field}=.*Run `newsdesk ingest --rebuild`"):
            other.counts()


def test_an_ingest_killed_between_chunks_and_record_is_finished_without_re_embedding(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, settings: Settings
) -> None:
    [article] = [a for a in read_paths([tiny_corpus / "ports.txt"]) if isinstance(a, Article)]
    chunks = chunk_article(article, settings.chunk_tokens, settings.chunk_overlap, pipeline.embedder.fits)
    pipeline.store.open_for_writing()
    pipeline.store.write_chunks(
        chunks, pipeline.embedder.embed_documents([indexed_text(c.title, c.text) for c in chunks])
    )
    assert pipeline.store.counts() == (0, len(chunks))  # chunks written, the article record never was

    report = ingest_paths(tiny_corpus / "ports.txt")
    assert report.added == 1 and report.chunks_embedded == 0  # its chunks were already there
    assert pipeline.store.counts() == (1, len(chunks))


def test_prune_removes_orphan_chunks(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, settings: Settings
) -> None:
    ingest_paths(tiny_corpus)
    orphan = Article(id="lost.txt", text="A story whose record was never written.", title="Lost")
    chunks = chunk_article(orphan, settings.chunk_tokens, settings.chunk_overlap)
    pipeline.store.write_chunks(chunks, pipeline.embedder.embed_documents([c.text for c in chunks]))
    assert pipeline.store.orphan_chunk_ids() == [c.id for c in chunks]
    ingest_paths(tiny_corpus, prune=True)
    assert pipeline.store.orphan_chunk_ids() == []
    assert "lost.txt" not in {c.article_id for c in pipeline.store.iter_chunks()}


def test_bad_server_addresses_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is not a server address; use http://host:port"):
        Store(Settings(data_dir=tmp_path, chroma_url="ftp://example"), "e", 384).exists()
    with pytest.raises(StoreError, match=r"Is `chroma run` up at that address\?"):
        Store(Settings(data_dir=tmp_path, chroma_url=f"http://127.0.0.1:{free_port()}"), "e", 384).exists()


# --- Chroma server mode (the `chroma_server` fixture is in tests/rag/conftest.py) ----------------------
def _server_pipeline(
    tmp_path: Path,
    url: str,
    collection: str,
    embedder: MiniLMEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    **overrides: int,
) -> Pipeline:
    return build_pipeline(
        Settings(data_dir=tmp_path / "data", chroma_url=url, collection=collection, **overrides), embedder=embedder
    )


def _ingest(pipeline: Pipeline, *paths: Path, **options: bool) -> IngestReport:
    return Indexer(pipeline.settings, pipeline.embedder, pipeline.store, pipeline.lexical).run(list(paths), **options)


@pytest.mark.slow
def test_server_mode_ingests_reopens_and_answers(
    chroma_server: str, tiny_corpus: Path, tmp_path: Path, embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSDESK_CHROMA_URL", chroma_server)
    # The URL comes from the environment.
    writer = build_pipeline(Settings(collection="server-reopen"), embedder=embedder)
    assert writer.store.location == chroma_server
    report = _ingest(writer, tiny_corpus)
    assert (report.added, report.exit_code) == (6, 0)
    counts = writer.store.counts()
    assert counts == (6, report.chunks_written)
    assert not (tmp_path / "data" / "chroma").exists()  # nothing went to the embedded store

    store_module.forget_clients()  # as if a new process: a fresh HTTP client
    reader = build_pipeline(Settings(collection="server-reopen"), embedder=embedder)
    assert reader.store.counts() == counts
    assert reader.status().articles == 6
    assert _query(reader, "storm leaves homes without electricity", 1) == ["storm.html"]
    _assert_cosine_ranking(reader)  # the cosine space reaches the server too
    assert set(_query(reader, "prices", filters=Filters(sources=("Example Wire",)))) == {"wire-001", "wire-002"}
    hits = reader.fresh_lexical().search("Rotterdam containers", 1)
    assert hits and reader.store.get_chunks([hits[0][0]])[hits[0][0]][0].article_id == "ports.txt"
    stored = reader.store.get_article("council.md")
    assert stored is not None and "voted 7-2" in stored.text
    again = _ingest(reader, tiny_corpus)
    assert again.chunks_embedded == 0 and again.unchanged == 6


@pytest.mark.slow
def test_server_mode_prune_mismatch_and_rebuild(
    chroma_server: str, tiny_corpus: Path, tmp_path: Path, embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = _server_pipeline(tmp_path, chroma_server, "server-rebuild", embedder, monkeypatch)
    _ingest(pipeline, tiny_corpus)
    (tiny_corpus / "council.md").unlink()
    assert _ingest(pipeline, tiny_corpus, prune=True).removed == 1
    assert pipeline.store.counts()[0] == 5

    store_module.forget_clients()
    smaller = _server_pipeline(
        tmp_path, chroma_server, "server-rebuild", embedder, monkeypatch, chunk_tokens=48, chunk_overlap=0
    )
    with pytest.raises(IndexMismatchError, match="newsdesk ingest --rebuild"):
        _ingest(smaller, tiny_corpus)
    rebuilt = _ingest(smaller, rebuild=True)
    assert rebuilt.reindexed == 5
    articles, chunks = smaller.store.counts()
    assert articles == 5 and chunks == rebuilt.chunks_written > 5  # smaller windows: more chunks than articles
    assert smaller.store.info()["chunking"] == "cl100k:48/0:sentences:title"
