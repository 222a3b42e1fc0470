"""``repair_markers``: every marker left in an answer points at a passage the model was given."""

from __future__ import annotations

import re

import pytest

from rag.generative import repair_markers

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "n", "expected"),
    [
        ("Rates rose [1].", 5, "Rates rose [1]."),
        ("Rates rose [0].", 5, "Rates rose."),
        ("Rates rose [7].", 5, "Rates rose."),
        ("Rates rose [abc].", 5, "Rates rose."),
        ("Rates rose [].", 5, "Rates rose."),
        ("Rates rose [source].", 5, "Rates rose."),
        ("Rates rose [citation needed].", 5, "Rates rose."),
        ("Rates rose [1, 2].", 5, "Rates rose [1][2]."),
        ("Rates rose [1,2,9].", 5, "Rates rose [1][2]."),
        ("Rates rose [1; 3].", 5, "Rates rose [1][3]."),
        ("Rates rose [1][2].", 5, "Rates rose [1][2]."),
        ("Rates rose [1] [2].", 5, "Rates rose [1][2]."),
        ("Rates rose [2][2] [2].", 5, "Rates rose [2]."),
        ("Rates rose [1-3].", 5, "Rates rose [1][2][3]."),
        ("Rates rose [4-9].", 5, "Rates rose [4][5]."),
        ("Rates rose [Passage 2].", 5, "Rates rose [2]."),
        ("Rates rose [Sources 1 and 2].", 5, "Rates rose [1][2]."),
        ("Rates rose [^2].", 5, "Rates rose [2]."),
        ("Rates [9] rose.", 5, "Rates rose."),
        ("[9] Rates rose.", 5, "Rates rose."),
        ("Rates rose[9] today.", 5, "Rates rose today."),
        ("He said [the mayor] agreed [1].", 5, "He said [the mayor] agreed [1]."),
        ("It was 'teh' [sic] [1].", 5, "It was 'teh' [sic] [1]."),
        ("See [Reuters](https://example.com) [1].", 5, "See [Reuters](https://example.com) [1]."),
        ("No markers at all.", 5, "No markers at all."),
        ("Anything [1].", 0, "Anything."),
        ("", 3, ""),
    ],
)
def test_repair(text: str, n: int, expected: str) -> None:
    assert repair_markers(text, n).strip() == expected


def test_copied_prompt_delimiters_are_removed() -> None:
    echoed = 'Canberra [1].\n<passage n="1" title="Harbour">\nClub signs goalkeeper [2].\n</passage>'
    assert repair_markers(echoed, 2) == "Canberra [1].\nClub signs goalkeeper [2].\n"
    assert repair_markers("Use a<b and c>d [1].", 1) == "Use a<b and c>d [1]."  # not a tag: kept


def test_multiline_answers_keep_their_lines() -> None:
    assert repair_markers("One [1].\nTwo [8].\n[9] Three.", 2) == "One [1].\nTwo.\nThree."


@pytest.mark.parametrize("n", [1, 3, 5])
def test_every_surviving_marker_resolves(n: int) -> None:
    messy = "A [0] b [1, 2] c [3-7] d [x] e [12] f [2][2] g [Passage 4] h [^5]."
    repaired = repair_markers(messy, n)
    numbers = [int(m) for m in re.findall(r"\[(\d+)\]", repaired)]
    assert numbers and all(1 <= k <= n for k in numbers)
    assert not re.search(r"\[[^\]]*[^\d\]][^\]]*\]", repaired)  # nothing but [digits] brackets remain
