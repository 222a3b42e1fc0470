"""Source cards by article: every quote of an article in one card, escaped, with the anchor [n] links to."""

from __future__ import annotations

import doctest

import pytest

import ui.chats
import ui.sources
from rag.numbering import number_by_article
from rag.records import Chunk, Citation, Passage
from ui.sources import article_card, article_html, excerpts, link_markers

pytestmark = pytest.mark.unit

TEXT = ("The quay at Porthleven reopened on Friday <script>alert(1)</script>. Repairs cost four million pounds. "
        "Boats returned the same evening. The harbour master thanked the crews.")


def _cite(n: int, sentence: str) -> Citation:
    start = TEXT.index(sentence)
    return Citation(n, "quay", "Quay <b>reopens</b>", "https://news.example/quay", "2022-07-01", sentence, start,
                    start + len(sentence), "Example Wire")


@pytest.mark.parametrize("module", [ui.sources, ui.chats])
def test_doctests(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


def test_one_card_holds_every_quote_of_its_article_highlighted_and_escaped() -> None:
    first = _cite(1, "The quay at Porthleven reopened on Friday <script>alert(1)</script>.")
    third = _cite(3, "The harbour master thanked the crews.")
    passages = [Passage(Chunk("c0", "quay", 0, TEXT[:100], 0, 100)), Passage(Chunk("c1", "other", 0, "x", 0, 1)),
                Passage(Chunk("c2", "quay", 1, TEXT[60:], 60, len(TEXT)))]
    numbered = number_by_article("Reopened [1]. Thanked [3].", [first, third])
    [source] = numbered.sources
    card = article_card(source, passages, turn=2)
    assert numbered.text == "Reopened [1]. Thanked [1]."
    assert card.count("<mark") == 2 and 'id="nd-src-2-1"' in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card and "<script" not in card
    assert "Quay &lt;b&gt;reopens&lt;/b&gt;" in card and 'href="https://news.example/quay"' in card
    assert "Boats returned the same evening." in card  # the context between the quotes, from the second chunk


def test_the_whole_article_is_text_with_every_quote_marked() -> None:
    cited = [_cite(1, "Repairs cost four million pounds."), _cite(2, "The harbour master thanked the crews.")]
    shown = article_html(TEXT + "\n\nSecond <i>paragraph</i>.", cited)
    assert shown.count("<mark") == 2 and "<br><br>Second &lt;i&gt;paragraph&lt;/i&gt;." in shown
    assert "<script" not in shown and "<i>" not in shown


def test_excerpts_merge_nearby_quotes_and_split_far_ones() -> None:
    text = " ".join(f"w{i}" for i in range(200))
    near = excerpts(text, [(10, 12), (20, 22)], width=30)
    far = excerpts(text, [(10, 12), (600, 604)], width=30)
    assert len(near) == 1 and sum(quoted for _, quoted in near[0].parts) == 2
    assert len(far) == 2 and far[1].clipped_before


def test_only_known_markers_become_links() -> None:
    assert link_markers("a \\[1\\] b \\[2\\]", 0, {2}) == "a \\[1\\] b [\\[2\\]](#nd-src-0-2)"
