"""The store contract: what every chunk/article store backend must do, written once and run against each
(embedded Chroma, and a real `chroma run` server), with the filter semantics of ``Filters.admits`` held
against the BM25 index as well. A new backend joins by adding one entry to ``BACKENDS``.

Hand-made 4-dimensional vectors keep it fast and exact: no model is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

from rag import store as store_module
from rag.filters import Filters
from rag.lexical import LexicalIndex
from rag.records import Article, Chunk
from rag.roles import ArticleReader, ChunkReader, StoreWriter
from rag.settings import Settings
from rag.store import Store

pytestmark = pytest.mark.integration

DIMENSION = 4
_DATES = ["2022-06-01", "2022-06-15", "", "2022-07-01"]
_SOURCES = ["Wire", "Post", "Wire", ""]
ARTICLES = [
    Article(id=f"a{n}", text=f"harbour story {n} " * 3, title=f"Story {n}", source=_SOURCES[n], published_at=_DATES[n],
            url=f"https://example.com/{n}")
    for n in range(4)
]
CHUNKS = [
    Chunk(id=f"a{a}-c{p}", article_id=f"a{a}", position=p, text=f"harbour story {a} ", start=0, end=16,
          title=f"Story {a}", source=_SOURCES[a], published_at=_DATES[a], url=f"https://example.com/{a}")
    for a in range(4)
    for p in range(2 if a == 0 else 1)
]
VECTORS = {c.id: np.eye(DIMENSION)[i % DIMENSION] * 0.9 + 0.1 for i, c in enumerate(CHUNKS)}

FILTERS = [
    Filters(),
    Filters(sources=("Wire",)),
    Filters(sources=("Wire", "Post")),
    Filters(sources=("Nobody",)),
    Filters(since="2022-06-10"),
    Filters(until="2022-06-15"),
    Filters(since="2022-06-01", until="2022-06-01"),
    Filters(sources=("Wire",), since="2022-01-01"),
]


def _unit(vector: np.ndarray) -> list[float]:
    return (vector / np.linalg.norm(vector)).tolist()


def _embedded(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("embedded"), collection="contract")


def _server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Settings:
    url = request.getfixturevalue("chroma_server")
    return Settings(data_dir=tmp_path_factory.mktemp("server"), chroma_url=url, collection="contract")


BACKENDS: dict[str, Callable[[pytest.TempPathFactory, pytest.FixtureRequest], Settings]] = {
    "chroma-embedded": _embedded,
    "chroma-server": _server,
}


@pytest.fixture(
    params=[pytest.param("chroma-embedded"), pytest.param("chroma-server", marks=pytest.mark.slow)],
)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A backend holding ``ARTICLES`` and ``CHUNKS``, written through the writer side."""
    settings = BACKENDS[request.param](tmp_path_factory, request)
    made = Store(settings, "contract-embedder", DIMENSION)
    writer: StoreWriter = made
    writer.write_chunks(CHUNKS, [_unit(VECTORS[c.id]) for c in CHUNKS])
    writer.write_articles(ARTICLES, ["hash"] * len(ARTICLES))
    writer.mark_changed()
    yield made
    if settings.chroma_url:  # the server outlives the test: leave it empty for the next one
        client = store_module.chroma.client(settings)
        for name in ("contract", "contract-articles"):
            client.delete_collection(name)
        store_module.forget_clients()


def test_counts_and_articles_read_back(store: Store) -> None:
    reader: ArticleReader = store
    assert reader.counts() == (len(ARTICLES), len(CHUNKS))
    assert reader.get_article("a1") == ARTICLES[1]
    assert reader.get_article("nope") is None
    assert set(reader.articles(["a0", "a3", "nope"])) == {"a0", "a3"}
    assert set(reader.articles()) == {a.id for a in ARTICLES}


def test_nearest_first_with_cosine_scores(store: Store) -> None:
    reader: ChunkReader = store
    found = reader.query(_unit(VECTORS["a2-c0"]), 3)
    assert found[0].chunk.id == "a2-c0" and found[0].scores["dense"] == pytest.approx(1.0, abs=1e-5)
    assert [p.scores["dense"] for p in found] == sorted((p.scores["dense"] for p in found), reverse=True)
    assert found[0].chunk == next(c for c in CHUNKS if c.id == "a2-c0")


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_filters_select_exactly_what_admits_says(store: Store, filters: Filters) -> None:
    wanted = {c.id for c in CHUNKS if filters.admits(c.source, c.published_at)}
    dense = {p.chunk.id for p in store.query(_unit(np.ones(DIMENSION)), len(CHUNKS), filters)}
    assert dense == wanted


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_the_bm25_index_filters_by_the_same_rule(
    store: Store, filters: Filters, tmp_path_factory: pytest.TempPathFactory
) -> None:
    lexical = LexicalIndex(tmp_path_factory.mktemp("bm25"))
    lexical.build(store.iter_chunks(), "g1")
    wanted_chunks = {c.id for c in CHUNKS if filters.admits(c.source, c.published_at)}
    wanted_articles = {a.id for a in ARTICLES if filters.admits(a.source, a.published_at)}
    assert {cid for cid, _ in lexical.search("harbour story", 50, filters)} == wanted_chunks
    assert {aid for aid, _, _ in lexical.search_titles("story", 50, filters)} == wanted_articles


def test_chunks_by_id_and_by_article(store: Store) -> None:
    got = store.get_chunks(["a0-c1", "nope"], with_vectors=True)
    assert list(got) == ["a0-c1"]
    assert got["a0-c1"][1] == pytest.approx(_unit(VECTORS["a0-c1"]), abs=1e-6)
    by_article = store.article_chunks(["a0", "nope"])
    assert sorted(c.id for c, _ in by_article["a0"]) == ["a0-c0", "a0-c1"] and by_article["nope"] == []


def test_deleting_an_article_takes_its_chunks(store: Store) -> None:
    store.delete_articles(["a0"])
    assert store.get_article("a0") is None
    assert store.counts() == (len(ARTICLES) - 1, len(CHUNKS) - 2)
    assert all(p.chunk.article_id != "a0" for p in store.query(_unit(np.ones(DIMENSION)), len(CHUNKS)))
