"""Readers: files and folders → Article / Rejected / Note, with ids, titles, dates and sources filled in."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ingest import sources
from ingest.meta import parse_date, title_from_text
from ingest.sources import FileDone, Note, Rejected, decode, estimate_articles, read_paths
from rag.records import Article

pytestmark = pytest.mark.unit


def _articles(items: list[object]) -> dict[str, Article]:
    return {i.id: i for i in items if isinstance(i, Article)}


def test_tiny_corpus_reads_every_format(tiny_corpus: Path) -> None:
    items = list(read_paths([tiny_corpus]))
    articles = _articles(items)
    assert sorted(articles) == ["council.md", "ports.txt", "storm.html", "wire-001", "wire-002", "wire-003"]
    done = {Path(i.path).name: i.complete for i in items if isinstance(i, FileDone)}
    assert done == {"council.md": True, "ports.txt": True, "storm.html": True, "wire.jsonl": True}
    assert not [i for i in items if isinstance(i, (Rejected, Note))]
    assert all(Path(a.path).is_absolute() and Path(a.path).exists() for a in articles.values())


def test_plain_text_title_is_the_first_line_and_source_the_folder(tiny_corpus: Path) -> None:
    article = _articles(list(read_paths([tiny_corpus])))["ports.txt"]
    assert article.title == "Port of Rotterdam reports record container volumes"
    assert article.text.startswith("Port of Rotterdam reports")
    assert "15.3 million containers" in article.text
    assert article.source == "corpus"
    assert (article.url, article.published_at) == ("", "")


def test_markdown_front_matter_becomes_metadata_and_leaves_the_text(tiny_corpus: Path) -> None:
    article = _articles(list(read_paths([tiny_corpus])))["council.md"]
    assert article.title == "City council approves bike lanes on Main Street"
    assert article.published_at == "2022-03-14"
    assert article.url == "https://www.springfield-herald.example/news/bike-lanes"
    assert article.source == "Springfield Herald"
    assert article.authors == ("Dana Whitfield", "Luis Ortega")
    assert "---" not in article.text and "authors:" not in article.text
    assert "voted 7-2 on Monday" in article.text


def test_markdown_without_front_matter_takes_the_first_heading(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("Intro line without hash\n\n## The real headline\n\nBody text here.\n", "utf-8")
    article = _articles(list(read_paths([tmp_path / "a.md"])))["a.md"]
    assert article.title == "The real headline"


def test_jsonl_fields_dates_and_fallbacks(tiny_corpus: Path) -> None:
    articles = _articles(list(read_paths([tiny_corpus / "wire.jsonl"])))
    rates = articles["wire-001"]
    assert rates.title == "Central bank raises interest rates by half a point"
    assert rates.published_at == "2022-06-15"  # written 2022/06/15
    assert rates.url == "https://wire.example/rates"
    assert rates.source == "Example Wire"
    assert rates.authors == ("A. Banker",)
    assert articles["wire-002"].url == ""
    assert articles["wire-003"].source == "wire.example"  # no source: the URL's host
    assert articles["wire-003"].published_at == ""


def test_jsonl_id_falls_back_to_url_then_file_and_line(tmp_path: Path) -> None:
    lines = [
        {"url": "https://news.example/one", "text": "First article body."},
        {"text": "Second article body, no id and no url."},
        {"id": 42, "text": "A numeric id is kept as text.", "authors": "Single Author"},
    ]
    (tmp_path / "feed.jsonl").write_text("\n".join(json.dumps(x) for x in lines), "utf-8")
    articles = _articles(list(read_paths([tmp_path / "feed.jsonl"])))
    assert sorted(articles) == ["42", "feed.jsonl:2", "https://news.example/one"]
    assert articles["42"].authors == ("Single Author",)
    assert articles["feed.jsonl:2"].source == "feed"  # no source, no url: the file's name
    assert articles["feed.jsonl:2"].title == "Second article body, no id and no url."


def test_ids_are_paths_relative_to_the_ingested_root(tmp_path: Path) -> None:
    nested = tmp_path / "news" / "2022" / "june"
    nested.mkdir(parents=True)
    (nested / "strike.txt").write_text("Dock strike\n\nWorkers walked out.", "utf-8")
    assert list(_articles(list(read_paths([tmp_path / "news"])))) == ["2022/june/strike.txt"]
    assert list(_articles(list(read_paths([nested / "strike.txt"])))) == ["strike.txt"]


def test_windows_line_endings_are_normalised(tmp_path: Path) -> None:
    (tmp_path / "crlf.txt").write_bytes(b"Title line\r\n\r\nFirst paragraph.\r\nSecond line.\r")
    article = _articles(list(read_paths([tmp_path / "crlf.txt"])))["crlf.txt"]
    assert article.text == "Title line\n\nFirst paragraph.\nSecond line.\n"


def test_hidden_files_are_ignored_and_unknown_types_noted(tmp_path: Path) -> None:
    (tmp_path / ".hidden.txt").write_text("Secret draft.", "utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "notes.txt").write_text("Not an article.", "utf-8")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    (tmp_path / "story.txt").write_text("A story\n\nIt happened.", "utf-8")
    items = list(read_paths([tmp_path]))
    assert list(_articles(items)) == ["story.txt"]
    assert [(n.where, n.message) for n in items if isinstance(n, Note)] == [
        ("photo.jpg", "skipped: not .txt, .md, .html or .jsonl")
    ]
    assert not [i for i in items if isinstance(i, Rejected)]


def test_an_unknown_file_named_directly_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")
    items = list(read_paths([tmp_path / "report.pdf"]))
    assert len(items) == 1 and isinstance(items[0], Rejected)
    assert "unknown file type .pdf" in items[0].reason


def test_missing_path_is_rejected_with_a_hint(tmp_path: Path) -> None:
    items = list(read_paths([tmp_path / "nowhere"]))
    assert items == [Rejected(str(tmp_path / "nowhere"), "no such file or folder; check the path")]


def test_oversized_file_is_rejected_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_ARTICLE_BYTES", 1000)
    (tmp_path / "big.txt").write_text("word " * 400, "utf-8")
    items = list(read_paths([tmp_path / "big.txt"]))
    assert isinstance(items[0], Rejected) and "too large for one article" in items[0].reason
    assert items[1] == FileDone(str(tmp_path / "big.txt"), False)


def test_symlink_loop_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "story.txt").write_text("Loop story\n\nBody.", "utf-8")
    os.symlink(tmp_path / "a", tmp_path / "a" / "again")
    items = list(read_paths([tmp_path / "a"]))
    assert list(_articles(items)) == ["story.txt"]
    assert any(isinstance(i, Note) and "already read" in i.message for i in items)


@pytest.mark.parametrize(
    ("data", "text", "note"),
    [
        (b"plain ascii", "plain ascii", ""),
        ("naïve café".encode(), "naïve café", ""),
        (b"\xef\xbb\xbfwith BOM", "with BOM", ""),
        ("UTF-16 text".encode("utf-16"), "UTF-16 text", "decoded as UTF-16"),
        ("café – “quoted”".encode("cp1252"), "café – “quoted”", "not UTF-8; decoded as Windows-1252"),
        (b"caf\xe9 \x81 end", "caf\ufffd \ufffd end", "not UTF-8; undecodable bytes replaced with U+FFFD"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None, "binary file, not text"),
    ],
    ids=["ascii", "utf8", "utf8-bom", "utf16", "cp1252", "undecodable", "binary"],
)
def test_decode(data: bytes, text: str | None, note: str) -> None:
    assert decode(data) == (text, note)


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2022-06-12", "2022-06-12"),
        ("2022/02/07", "2022-02-07"),
        ("2022.02.07", "2022-02-07"),
        ("2022-06-12T23:30:00Z", "2022-06-12"),
        ("June 12, 2022", "2022-06-12"),
        ("Sun, 12 Jun 2022 10:00:00 GMT", "2022-06-12"),
        ("2022/13/45", ""),
        ("sometime soon", ""),
        ("", ""),
    ],
)
def test_parse_date(value: str, iso: str) -> None:
    assert parse_date(value) == iso


def test_title_from_a_long_first_line_is_its_first_sentence_shortened() -> None:
    text = "The mayor said the plan would go ahead. " + "More words follow in the same paragraph. " * 10
    assert title_from_text(text) == "The mayor said the plan would go ahead."
    assert len(title_from_text("word " * 100)) <= 150


def test_an_untitled_record_is_titled_from_its_url_slug_not_its_scraped_first_line(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    records = [
        {"url": "https://www.cnn.com/2022/06/15/business/ford-recall/index.html",
         "text": "1. How relevant is this ad to you?\n\nVideo player was slow to load content"},
        {"url": "https://news.example/world/2022/09/06/", "text": "London CNN —\n\nLiz Truss became prime minister."},
        {"url": "https://news.example/a-given-slug", "title": "The given title", "text": "Body."},
    ]
    feed.write_text("\n".join(json.dumps(r) for r in records), "utf-8")
    titles = [a.title for a in _articles(list(read_paths([feed]))).values()]
    # A slug when there is one; else the first line that is not a dateline; a given title always wins.
    assert titles == ["Ford recall", "Liz Truss became prime minister.", "The given title"]


def test_a_dateline_is_never_a_title() -> None:
    for dateline in ("CNN —", "Colombo, Sri Lanka (CNN) —", "Reuters --", "New York CNN Business –"):
        lede = "The storm hit the coast on Monday."
        assert title_from_text(f"{dateline}\n\n{lede}") == lede
    assert title_from_text("Prices rose — again\nBody.") == "Prices rose — again"


def test_estimate_counts_files_and_jsonl_lines(tiny_corpus: Path) -> None:
    assert estimate_articles([tiny_corpus]) == 6
    assert estimate_articles([tiny_corpus / "wire.jsonl", tiny_corpus / "missing.txt"]) == 3


def test_plain_text_may_open_with_front_matter(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("---\ntitle: Quay reopens\nsource: Example Wire\ndate: 2022-07-01\n---\n"
                                    "The quay reopened on Friday.\n", "utf-8")
    (tmp_path / "b.txt").write_text("---\njust a rule\n---\nBody text.\n", "utf-8")
    articles = _articles(list(read_paths([tmp_path])))
    quay = articles["a.txt"]
    assert (quay.title, quay.source, quay.published_at) == ("Quay reopens", "Example Wire", "2022-07-01")
    assert quay.text == "The quay reopened on Friday.\n"
    assert articles["b.txt"].text.startswith("---\njust a rule")  # no field named: it is text


def test_the_bundled_article_has_a_headline_source_and_date() -> None:
    from rag.pipeline import BUNDLED_CORPUS

    [article] = _articles(list(read_paths([BUNDLED_CORPUS]))).values()
    assert article.id == "000_78dbcec5bdb2f3cc.txt"
    assert article.title == "Anthropic lobbies the Trump White House to ease export controls on Claude"
    assert (article.source, article.published_at) == ("newsdesk sample", "2026-11-27")
    assert article.text.startswith("Anthropic, the San Francisco-based artificial intelligence company")
