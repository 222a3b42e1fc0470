"""Time words on the query path (rag/time_query.py) over a real store: filters, newest first, fallback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.filters import Filters
from rag.pipeline import Pipeline
from rag.time_query import describe_searched, intersect
from rag.timewords import TimeWords
from tests.conftest import IngestPaths

# A weekly story, told the same way each week with a different number (hand-written, not from any dataset).
WEEKS = [("2022-10-13", "6.92"), ("2022-10-20", "6.94"), ("2022-10-27", "7.08")]


def _rates_corpus(tmp_path: Path) -> Path:
    rows = [
        {"id": f"rates-{day}", "title": f"Mortgage rates for the week ending {day}", "published_at": day,
         "source": "Example Wire",
         "text": f"The average 30-year fixed mortgage rate was {rate}% this week, the lenders' survey showed. "
                 "Buyers kept waiting for lower mortgage rates as home sales slowed."}
        for day, rate in WEEKS
    ]
    rows.append({"id": "rates-2017", "title": "Fed lifts its rate", "published_at": "2017-03-15",
                 "source": "Example Wire",
                 "text": "The Federal Reserve raised its benchmark rate by a quarter point. Mortgage rates, "
                         "the average 30-year fixed mortgage rate and the mortgage rate outlook all moved with it; "
                         "mortgage rates were 4.2% for a 30-year fixed mortgage."})
    path = tmp_path / "rates.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")
    return path


@pytest.fixture
def rates(pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path) -> Pipeline:
    assert ingest_paths(_rates_corpus(tmp_path)).exit_code == 0
    return pipeline


@pytest.mark.unit
@pytest.mark.parametrize(
    ("explicit", "words", "expected"),
    [
        (Filters(), TimeWords(), Filters()),
        (Filters(), TimeWords("2022-10-24", "2022-10-30", no_time_words=False),
         Filters((), "2022-10-24", "2022-10-30")),
        (Filters(since="2022-10-26"), TimeWords("2022-10-24", "2022-10-30", no_time_words=False),
         Filters((), "2022-10-26", "2022-10-30")),
        (Filters(("CNN",), until="2022-10-01"), TimeWords("2022-10-24", "2022-10-30", no_time_words=False),
         Filters(("CNN",), "", "2022-10-01")),  # no overlap: the explicit filter wins
        (Filters(until="2022-10-28"), TimeWords("", "2022-05-31", no_time_words=False), Filters((), "", "2022-05-31")),
    ],
)
def test_intersect(explicit: Filters, words: TimeWords, expected: Filters) -> None:
    assert intersect(explicit, words) == expected


@pytest.mark.unit
def test_describe_searched() -> None:
    assert describe_searched(("2022-06-09", "2022-06-16")) == "articles from 2022-06-09 to 2022-06-16"
    assert describe_searched(None) == ""


@pytest.mark.integration
def test_last_week_filters_to_that_week_and_the_answer_says_so(rates: Pipeline) -> None:
    answer = rates.answer("What was the average mortgage rate last week?", asked_on="2022-10-31")
    assert answer.searched == ("2022-10-24", "2022-10-30")
    assert {p.chunk.article_id for p in answer.passages} == {"rates-2022-10-27"}
    assert "7.08%" in answer.text and not answer.warnings


@pytest.mark.integration
def test_switched_off_the_words_are_not_read(rates: Pipeline) -> None:
    rates.settings = rates.settings.model_copy(update={"time_words": False})  # read per question, not at build
    answer = rates.answer("What was the average mortgage rate last week?", asked_on="2022-10-31")
    assert answer.searched is None
    assert len({p.chunk.article_id for p in answer.passages}) > 1


@pytest.mark.integration
def test_a_month_and_year_reach_back_years(rates: Pipeline) -> None:
    passages = rates.retrieve("What did the Fed do to rates in March 2017?", asked_on="2022-10-31")
    assert [p.chunk.article_id for p in passages] == ["rates-2017"]


@pytest.mark.integration
def test_an_empty_range_falls_back_to_all_dates_with_a_warning(rates: Pipeline) -> None:
    answer = rates.answer("What was the mortgage rate in 2015?", asked_on="2022-10-31")
    assert answer.passages and answer.searched is None
    assert answer.warnings == ("No articles from 2015-01-01 to 2015-12-31 (read from “in 2015”), so all dates were "
                               "searched.",)


@pytest.mark.integration
def test_explicit_filters_win_over_conflicting_time_words(rates: Pipeline) -> None:
    answer = rates.answer("What was the mortgage rate last week?", filters=Filters(until="2022-10-15"),
                          asked_on="2022-10-31")
    assert answer.searched == ("", "2022-10-15")
    assert {p.chunk.article_id for p in answer.passages} == {"rates-2022-10-13", "rates-2017"}


@pytest.mark.integration
def test_latest_ranks_the_newest_coverage_first_months_later(rates: Pipeline) -> None:
    question = "What is the latest average 30-year fixed mortgage rate?"
    on = rates.retrieve(question, asked_on="2023-03-01")
    assert on[0].chunk.article_id == "rates-2022-10-27"
    rates.settings = rates.settings.model_copy(update={"time_words": False})
    assert rates.retrieve(question, asked_on="2023-03-01")[0].chunk.article_id != "rates-2022-10-27"
