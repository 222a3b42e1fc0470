"""The BM25 index: tokenising, ranking, filters that match the store's, and a save/load that survives damage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.filters import Filters
from rag.lexical import LexicalIndex
from rag.records import Chunk
from rag.words import tokenize

pytestmark = pytest.mark.unit

CHUNKS = [
    Chunk(
        "c-harbour",
        "harbour.txt",
        0,
        "Dock workers ended the harbour strike after talks.",
        0,
        50,
        title="Harbour strike ends",
        source="Port News",
        published_at="2022-01-05",
    ),
    Chunk(
        "c-rates",
        "rates",
        0,
        "The central bank raised interest rates again.",
        0,
        45,
        title="Rates rise",
        source="Example Wire",
        published_at="2022-06-15",
    ),
    Chunk(
        "c-storm",
        "storm",
        0,
        "A storm cut power to coastal towns.",
        0,
        35,
        title="Storm",
        source="Example Wire",
        published_at="",
    ),
    Chunk("c-stop", "stop", 0, "the of and it", 0, 13, title="", source="Other", published_at="2022-02-02"),
]


@pytest.fixture
def index(tmp_path: Path) -> LexicalIndex:
    lexical = LexicalIndex(tmp_path / "bm25" / "news")
    lexical.build(CHUNKS, "gen-1")
    return lexical


def test_tokenize_lowercases_and_drops_stop_words() -> None:
    assert tokenize("Which company is lobbying the White House?") == ["company", "lobbying", "white", "house"]
    assert tokenize("A I x U.S.") == []  # one-letter tokens are not words to match on
    assert tokenize("COVID-19 vaccines") == ["covid", "19", "vaccines"]


def test_search_ranks_by_terms_and_title(index: LexicalIndex) -> None:
    assert index.search("harbour strike", 3)[0][0] == "c-harbour"
    assert index.search("Rates rise", 3)[0][0] == "c-rates"  # title words are indexed with the chunk
    assert {i for i, _ in index.search("interest harbour", 5)} == {"c-harbour", "c-rates"}
    assert all(score > 0 for _, score in index.search("storm power rates harbour", 10))


def test_inflected_forms_find_each_other(index: LexicalIndex) -> None:
    assert index.search("raising rate", 1)[0][0] == "c-rates"  # "raised", "rates"
    assert index.search("striking harbours", 1)[0][0] == "c-harbour"
    assert index.search_titles("storms", 1)[0][0] == "storm"


def test_stems_come_from_the_c_stemmer_and_match_the_pure_python_one() -> None:
    # Saved indexes hold stems, and the analyzer key does not say which implementation made them: the C one
    # (PyStemmer, ten times faster) must stem exactly as snowballstemmer's pure-Python English stemmer does.
    import snowballstemmer
    import Stemmer
    from snowballstemmer.english_stemmer import EnglishStemmer

    from rag.words import terms

    assert snowballstemmer.stemmer is Stemmer.Stemmer
    words = ["recalled", "flights", "generously", "hurricanes", "running", "agreed", "Truss", "crises", "elections"]
    assert terms(" ".join(words)) == [EnglishStemmer().stemWord(w.lower()) for w in words]
    assert terms("Flights recalled")[0] == "flight"


@pytest.mark.parametrize("query", ["", "the of and", "zebra quokka"], ids=["empty", "stop-words", "unknown"])
def test_no_matching_terms_returns_nothing(index: LexicalIndex, query: str) -> None:
    assert index.search(query, 5) == []


def test_filters_match_the_stores_rules(index: LexicalIndex) -> None:
    query = "harbour strike rates storm power"
    assert {i for i, _ in index.search(query, 10, Filters(sources=("Example Wire",)))} == {"c-rates", "c-storm"}
    # An undated chunk (c-storm) is outside every date range.
    assert {i for i, _ in index.search(query, 10, Filters(since="2022-01-01"))} == {"c-harbour", "c-rates"}
    assert {i for i, _ in index.search(query, 10, Filters(until="2022-03-01"))} == {"c-harbour"}
    assert index.search(query, 10, Filters(sources=("Example Wire",), until="2022-03-01")) == []


def test_saved_index_loads_in_a_new_process(index: LexicalIndex, tmp_path: Path) -> None:
    fresh = LexicalIndex(tmp_path / "bm25" / "news")
    assert len(fresh) == 0 and fresh.search("storm", 3) == []
    assert fresh.load()
    assert (fresh.generation, len(fresh), fresh.ids) == ("gen-1", 4, [c.id for c in CHUNKS])
    assert fresh.search("storm power", 1)[0][0] == "c-storm"


def test_rebuild_replaces_the_saved_index(index: LexicalIndex, tmp_path: Path) -> None:
    index.build(CHUNKS[:1], "gen-2")
    fresh = LexicalIndex(tmp_path / "bm25" / "news")
    assert fresh.load() and (fresh.generation, fresh.ids) == ("gen-2", ["c-harbour"])
    assert sorted(p.name for p in (tmp_path / "bm25").iterdir()) == ["news", "news.lock"]  # no .tmp/.old left


def test_an_empty_index_saves_loads_and_finds_nothing(tmp_path: Path) -> None:
    empty = LexicalIndex(tmp_path / "bm25" / "empty")
    empty.build([], "gen-0")
    again = LexicalIndex(tmp_path / "bm25" / "empty")
    assert again.load() and len(again) == 0 and again.search("storm", 3) == []


@pytest.mark.parametrize(
    "damage", ["missing", "broken-json", "missing-key", "no-titles", "other-analyzer", "uneven-lists",
               "missing-bm25-files", "missing-title-files"]
)
def test_a_missing_or_damaged_index_loads_as_absent(index: LexicalIndex, tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "bm25" / "news"
    meta = folder / "newsdesk.json"
    if damage == "missing":
        folder = tmp_path / "bm25" / "never-built"
    elif damage == "broken-json":
        meta.write_text("{not json", "utf-8")
    elif damage == "missing-key":  # e.g. written by an older newsdesk
        meta.write_text(json.dumps({"ids": ["c-harbour"]}), "utf-8")
    elif damage == "no-titles":  # an index saved before titles had an index of their own
        saved = json.loads(meta.read_text("utf-8"))
        meta.write_text(json.dumps({k: v for k, v in saved.items() if k != "titles"}), "utf-8")
    elif damage == "other-analyzer":  # e.g. saved before terms were stemmed
        saved = json.loads(meta.read_text("utf-8"))
        meta.write_text(json.dumps({**saved, "analyzer": "words-stopwords"}), "utf-8")
    elif damage == "missing-title-files":
        shutil.rmtree(folder / "titles")
    elif damage == "uneven-lists":
        saved = json.loads(meta.read_text("utf-8"))
        meta.write_text(json.dumps({**saved, "sources": saved["sources"][:1]}), "utf-8")
    else:
        for path in folder.iterdir():
            if path.is_file() and path != meta:
                path.unlink()
    assert LexicalIndex(folder).load() is False


def test_sources_lists_each_indexed_source_once_sorted(index: LexicalIndex, tmp_path: Path) -> None:
    assert index.sources() == sorted({c.source for c in CHUNKS})
    assert index.sources().count("Example Wire") == 1
    empty = LexicalIndex(tmp_path / "empty")
    empty.build([], "g0")
    assert empty.sources() == []
