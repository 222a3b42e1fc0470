"""Properties of rag.timewords that must hold for any question and any date (hypothesis)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.timewords import parse

pytestmark = pytest.mark.unit

PHRASES = [
    "today", "yesterday", "this week", "last week", "past week", "this weekend", "this month", "last month",
    "this year", "last year", "over the last year", "past 3 days", "two weeks ago", "a month ago", "on Monday",
    "since Friday", "last Sunday", "in June", "in February", "this December", "last May", "in June 2022",
    "March 2020", "on June 12", "on February 29", "December 31, 2021", "12 March", "in 2019", "since 2019",
    "before June 2022", "after March", "until 2021", "early October",
]
DAYS = st.dates(min_value=date(1995, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=300, deadline=None)
@given(phrase=st.sampled_from(PHRASES), asked=DAYS)
def test_a_range_never_ends_after_the_question_and_never_runs_backwards(phrase: str, asked: date) -> None:
    got = parse(f"What happened {phrase}?", asked)
    if got.until:
        assert got.until <= asked.isoformat()
    if got.since and got.until:
        assert got.since <= got.until
    for value in (got.since, got.until):
        if value:
            date.fromisoformat(value)
    if got.no_time_words:  # only a date to come or one that does not exist is no range
        assert phrase in ("this December", "on February 29") or _named_start(phrase) > asked


def _named_start(phrase: str) -> date:
    """The first day a phrase with a year names ("in June 2022": 2022-06-01, "December 31, 2021"), or a day no
    question is asked on when it names no year. A named day later in the question's own year is a date to come
    too (hypothesis found "in June 2022" asked on 2022-01-01; comparing years alone missed it)."""
    if not phrase[-4:].isdigit():
        return date.min
    months = [m for m in range(1, 13) if date(2000, m, 1).strftime("%B") in phrase] or [1]
    day = re.search(r"(\d{1,2}),", phrase)
    return date(int(phrase[-4:]), months[0], int(day.group(1)) if day else 1)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200), asked=DAYS)
def test_any_text_parses_without_error(text: str, asked: date) -> None:
    got = parse(text, asked)
    assert got.no_time_words == (not (got.since or got.until or got.newest_first))
