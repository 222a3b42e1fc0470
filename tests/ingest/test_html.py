"""HTML pages: visible article text only, with title, date, url and source kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.html_page import parse_html
from ingest.sources import Rejected, read_paths
from rag.records import Article
from tests.samples import STORM_HTML

pytestmark = pytest.mark.unit


def test_scripts_styles_nav_and_footer_are_stripped() -> None:
    page = parse_html(STORM_HTML)
    assert "SHOULD-NOT-APPEAR" not in page.text
    assert "color: red" not in page.text and "window.tracking" not in page.text
    assert "Home" not in page.text
    assert "<" not in page.text and ">" not in page.text


def test_paragraphs_stay_apart_and_text_is_kept_verbatim() -> None:
    page = parse_html(STORM_HTML)
    assert page.text.split("\n\n") == [
        "Storm knocks out power to 40,000 homes",
        "A fierce overnight storm knocked out power to about 40,000 homes along the coast, the utility said.",
        "Crews expected to restore electricity to most customers by Thursday evening.",
    ]


def test_title_date_and_canonical_url_are_kept() -> None:
    meta = parse_html(STORM_HTML).meta
    assert meta["title"] == "Storm knocks out power to 40,000 homes"
    assert meta["date"] == "2022-11-02T08:30:00Z"
    assert meta["url"] == "https://coastal-news.example/2022/11/storm-power"


def test_read_as_an_article(tiny_corpus: Path) -> None:
    [article] = [a for a in read_paths([tiny_corpus / "storm.html"]) if isinstance(a, Article)]
    assert article.id == "storm.html"
    assert article.title == "Storm knocks out power to 40,000 homes"
    assert article.published_at == "2022-11-02"
    assert article.url == "https://coastal-news.example/2022/11/storm-power"
    assert article.source == "coastal-news.example"
    assert "SHOULD-NOT-APPEAR" not in article.text


def test_og_metadata_wins_and_entities_are_decoded() -> None:
    page = parse_html(
        '<html><head><title>Site | Generic</title><meta property="og:title" content="Rates rise again">'
        '<meta property="og:site_name" content="The Ledger"><meta name="author" content="Jo Reporter">'
        '<meta property="og:url" content="https://ledger.example/rates"></head>'
        "<body><p>Fish &amp; chips cost &pound;9&nbsp;now &mdash; up 20%.</p></body></html>"
    )
    assert page.meta["title"] == "Rates rise again"
    assert page.meta["source"] == "The Ledger"
    assert page.meta["authors"] == "Jo Reporter"
    assert page.meta["url"] == "https://ledger.example/rates"
    assert page.text == "Fish & chips cost £9 now — up 20%."


def test_title_falls_back_to_h1_and_date_to_time_element() -> None:
    page = parse_html(
        "<body><svg><title>icon title</title></svg><h1>Bridge reopens after repairs</h1>"
        '<p>Published <time datetime="2021-09-30">last Thursday</time>.</p><p>Traffic resumed.</p></body>'
    )
    assert page.meta["title"] == "Bridge reopens after repairs"
    assert page.meta["date"] == "2021-09-30"
    assert "icon title" not in page.text
    assert "Traffic resumed." in page.text


def test_nested_boilerplate_and_void_tags_inside_it_do_not_leak() -> None:
    page = parse_html(
        "<body><header><div>Subscribe<br><img src=x>now</div><nav><ul><li>World</li></ul></nav></header>"
        "<main><p>Line one<br>line two</p><aside>Related: other story</aside><p>Last paragraph.</p></main>"
        "<form><input name=q><button>Search</button></form></body>"
    )
    assert page.text == "Line one line two\n\nLast paragraph."  # <br> is white space inside a paragraph
    for leaked in ("Subscribe", "World", "Related", "Search", "now"):
        assert leaked not in page.text


def test_a_page_with_only_boilerplate_is_rejected_as_empty(tmp_path: Path) -> None:
    (tmp_path / "menu.htm").write_text(
        "<html><head><title>Menu</title><script>x()</script></head><body><nav>Home</nav></body></html>", "utf-8"
    )
    items = list(read_paths([tmp_path / "menu.htm"]))
    assert isinstance(items[0], Rejected) and items[0].reason == "empty: no text to index"
