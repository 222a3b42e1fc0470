"""The page's pure rendering helpers: escaping, safe links, quote windows, source cards, verifier marks."""

from __future__ import annotations

import pytest

from rag.records import Chunk, Citation, Passage, SentenceCheck
from ui import render

pytestmark = pytest.mark.unit

HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)> **bold** $x$ [a](javascript:alert(3)) :red[hi]"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("", ""),
        ("Plain words", "Plain words"),
        ("<b>hi</b>", "\\<b\\>hi\\<\\/b\\>"),
        ("costs $4 and $5", "costs \\$4 and \\$5"),
        ("# not a heading", "\\# not a heading"),
        ("    indented code", "indented code"),
        ("para one\n\n  para two", "para one\n\npara two"),
        ("1. item", "1\\. item"),
    ],
)
def test_escape_markdown(text: str, escaped: str) -> None:
    assert render.escape_markdown(text) == escaped


def test_escape_markdown_leaves_no_markup_characters_unescaped() -> None:
    out = render.escape_markdown(HOSTILE)
    unescaped = [ch for i, ch in enumerate(out) if ch in "<>[]()*$:=`" and (i == 0 or out[i - 1] != "\\")]
    assert unescaped == []


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.com/a?b=1", True),
        ("http://example.com", True),
        ("HTTPS://EXAMPLE.COM", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox", False),
        ("//example.com/x", False),
        ("/relative/path", False),
        ("http:///nohost", False),
        ("https://exa mple.com", False),
        ("https://example.com/\x00", False),
        ("", False),
    ],
)
def test_only_http_urls_are_safe(url: str, safe: bool) -> None:
    assert (render.safe_url(url) is not None) == safe


def test_quote_window_shows_whole_words_around_the_quote() -> None:
    text = "Alpha beta gamma delta. The quote is here. Epsilon zeta eta theta."
    start = text.index("The quote")
    end = text.index("here.") + len("here.")
    window = render.quote_window(text, start, end, width=12)
    assert window.quote == "The quote is here."
    assert window.before == "delta. " and window.clipped_before
    assert window.after == " Epsilon" and window.clipped_after


def test_quote_window_at_the_edges_of_the_text_is_not_clipped() -> None:
    window = render.quote_window("Only this.", 0, 10)
    assert (window.before, window.quote, window.after) == ("", "Only this.", "")
    assert not window.clipped_before and not window.clipped_after


def _passage(text: str, start: int = 100, **meta: str) -> Passage:
    chunk = Chunk("c1", "art-1", 0, text, start, start + len(text), **meta)
    return Passage(chunk, {"dense": 0.61234, "bm25": 2.5, "fused": 0.03279})


def test_citation_window_finds_the_quote_in_its_chunk_by_article_offsets() -> None:
    text = "First sentence here. The cited sentence. Last one."
    lo = text.index("The cited")
    passage = _passage(text, start=500)
    cite = Citation(1, "art-1", "T", "", "", "The cited sentence.", 500 + lo, 500 + lo + 19)
    window = render.citation_window(cite, [passage])
    assert (window.before, window.quote, window.after) == ("First sentence here. ", "The cited sentence.", " Last one.")


def test_citation_window_falls_back_to_the_quote_alone() -> None:
    cite = Citation(1, "other-article", "T", "", "", "Some quote.", 0, 11)
    window = render.citation_window(cite, [_passage("Unrelated text.")])
    assert (window.before, window.quote, window.after) == ("", "Some quote.", "")


def test_source_card_escapes_everything_from_the_article() -> None:
    text = f"Before {HOSTILE} after."
    passage = _passage(text, start=0, title="<b>Title</b>", url="https://ok.example/?q=<x>", source="<i>Wire</i>")
    lo = text.index("<script>")
    cite = Citation(1, "art-1", "<b>Title</b>", "https://ok.example/?q=<x>", "2022-01-02", text[lo:], lo, len(text),
                    source="<i>Wire</i>")
    card = render.source_card(cite, render.citation_window(cite, [passage]))
    assert "<script" not in card and "<img" not in card and "<b>" not in card and "<i>" not in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card
    assert 'href="https://ok.example/?q=&lt;x&gt;"' in card and 'rel="noopener noreferrer nofollow"' in card
    assert "&lt;i&gt;Wire&lt;/i&gt; · 2022-01-02" in card
    assert "<mark" in card


def test_a_javascript_url_is_not_a_link() -> None:
    cite = Citation(2, "art-1", "Title", "javascript:alert(1)", "", "Quote.", 0, 6)
    card = render.source_card(cite, render.Window("", "Quote.", ""))
    assert "href" not in card and "javascript" not in card
    assert "<strong>Title</strong>" in card


def test_passage_card_shows_scores_and_an_escaped_snippet() -> None:
    card = render.passage_card(3, _passage("Words <script>x</script> " * 40, title="T"))
    assert "(3)" in card and "dense 0.612 · BM25 2.50 · headline — · fused 0.0328" in card
    assert "<script" not in card and "&lt;script&gt;" in card
    assert card.count("&lt;script&gt;") < 40  # a snippet, not the whole chunk


def test_a_headline_only_passage_says_so_and_links_to_its_page() -> None:
    card = render.passage_card(2, _passage("", start=0, title="Eiffel tower paris needs repairs",
                                           url="https://news.example/travel/eiffel-tower"))
    assert "Headline only: no text was stored for this page; open its link to read it." in card
    assert 'href="https://news.example/travel/eiffel-tower"' in card


def test_unsupported_and_weak_sentences_are_marked_and_supported_ones_are_not() -> None:
    text = "The quay reopened on Friday [1]. It cost 9 million dollars [1]. Boats returned [1]."
    checks = [
        SentenceCheck("The quay reopened on Friday [1].", "supported", 0.9, citation=1),
        SentenceCheck("It cost 9 million dollars [1].", "unsupported", 0.1),
        SentenceCheck("Boats returned [1].", "weak", 0.4),
    ]
    out = render.annotate_answer(text, checks)
    assert out.count(render.NOT_FOUND) == 2
    first, second, third = out.split(render.NOT_FOUND)
    assert "Friday" in first and "9 million" in first  # the mark follows the invented sentence
    assert "Boats returned" in second and third.endswith("]")
    assert render.annotate_answer(text, checks[:1]) == render.escape_markdown(text)
