"""Sources by article: one number per cited article, from [1] in order of first citation."""

from __future__ import annotations

import pytest

from rag.numbering import number_by_article
from rag.records import Citation

pytestmark = pytest.mark.unit


def cite(n: int, article: str, start: int = 0, end: int = 5, quote: str = "quote") -> Citation:
    return Citation(n, article, article.title(), f"https://news.example/{article}", "2022-06-01", quote, start, end)


@pytest.mark.parametrize(
    ("text", "citations", "expected"),
    [
        ("", [], ""),
        ("Nothing cited.", [], "Nothing cited."),
        ("One source, fourth passage [4].", [cite(4, "a")], "One source, fourth passage [1]."),
        ("Three passages of one article [1][2]. More [3].", [cite(1, "a"), cite(2, "a", 9, 12), cite(3, "a", 20, 25)],
         "Three passages of one article [1]. More [1]."),
        ("B first [2]. Then A [1]. B again [2].", [cite(1, "a"), cite(2, "b")],
         "B first [1]. Then A [2]. B again [1]."),
        ("Unknown marker [9] stays; known [1].", [cite(1, "a")], "Unknown marker [9] stays; known [1]."),
        ("Mixed run [3] [1] [2].", [cite(1, "a"), cite(2, "b"), cite(3, "a")], "Mixed run [1][2]."),
    ],
)
def test_markers_are_renumbered_per_article(text: str, citations: list[Citation], expected: str) -> None:
    assert number_by_article(text, citations).text == expected


def test_each_article_is_one_source_holding_every_quote_in_article_order() -> None:
    citations = [cite(2, "b", 40, 50), cite(1, "a", 30, 35), cite(3, "a", 3, 9), cite(3, "a", 3, 9)]
    out = number_by_article("A [1]. B [2]. A again [3].", citations)
    assert [(s.n, s.article_id) for s in out.sources] == [(1, "a"), (2, "b")]
    assert [(c.start, c.end) for c in out.sources[0].citations] == [(3, 9), (30, 35)]  # offsets kept, deduplicated
    assert out.sources[0].title == "A" and out.sources[0].url == "https://news.example/a"
    assert out.number_of("b") == 2 and out.number_of("zzz") is None


def test_a_cited_article_no_marker_names_comes_after_the_marked_ones() -> None:
    out = number_by_article("Only B is marked [2].", [cite(1, "a"), cite(2, "b")])
    assert out.text == "Only B is marked [1]."
    assert [(s.n, s.article_id) for s in out.sources] == [(1, "b"), (2, "a")]
