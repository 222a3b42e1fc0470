"""rag.timewords: hand-labelled cases (eval/questions/timewords_parse.jsonl) and the edge cases named in the issue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.timewords import parse

pytestmark = pytest.mark.unit

CASES = Path(__file__).resolve().parents[2] / "eval" / "questions" / "timewords_parse.jsonl"


def _cases() -> list[dict[str, object]]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['asked_on']} {c['question']}")
def test_labelled_case(case: dict[str, object]) -> None:
    got = parse(str(case["question"]), str(case["asked_on"]))
    assert (got.since, got.until, got.newest_first) == (case["since"], case["until"], case["newest_first"])
    assert got.no_time_words == (not (case["since"] or case["until"] or case["newest_first"]))


@pytest.mark.parametrize(
    ("question", "asked_on", "since", "until"),
    [
        ("What happened last week?", "2023-01-02", "2022-12-26", "2023-01-01"),  # across the year boundary
        ("What happened in December?", "2023-01-02", "2022-12-01", "2022-12-31"),
        ("What happened this year?", "2023-01-01", "2023-01-01", "2023-01-01"),
        ("What happened in May?", "2023-05-01", "2023-05-01", "2023-05-01"),  # the month has just begun
        ("What happened in June?", "2023-05-31", "2022-06-01", "2022-06-30"),  # asked in May: last year's June
        ("What happened last June?", "2023-06-20", "2022-06-01", "2022-06-30"),
        ("What happened on Monday?", "2022-10-24", "2022-10-24", "2022-10-24"),  # asked on a Monday: today
        ("What happened since Monday?", "2022-10-24", "2022-10-17", "2022-10-24"),  # ... but since: a week ago
        ("What happened on February 29?", "2023-03-01", "", ""),  # no such day in 2023
        ("What happened on February 29, 2024?", "2024-03-10", "2024-02-29", "2024-03-01"),
    ],
)
def test_edges(question: str, asked_on: str, since: str, until: str) -> None:
    got = parse(question, asked_on)
    assert (got.since, got.until) == (since, until)


@pytest.mark.parametrize(
    "question",
    [
        "What did Theresa May say?",
        "Will protesters March on the capital?",
        "Why did they march to the square?",
        "What did the Fox 2019 report find?",
        "Which rule changed in the 2023 spending bill?",
        "Did the Boeing 737 fly?",
        "How many of the 2019 votes were counted?",
        "What is COVID-19?",
        "Who will host the 2030 World Cup?",
        "What were Cyber Monday sales like?",
        "What did the Fed decide?",
        "",
    ],
)
def test_looks_like_a_date_but_is_not(question: str) -> None:
    assert parse(question, "2022-10-21").no_time_words


def test_phrase_and_newest_combined() -> None:
    got = parse("What is the latest mortgage rate in October 2022?", "2023-03-01")
    assert (got.since, got.until, got.newest_first) == ("2022-10-01", "2022-10-31", True)
    assert got.phrase == "in October 2022 … latest"


def test_relative_beats_a_year_in_the_question() -> None:
    assert parse("Who won the 2022 French Open this week?", "2022-06-10").phrase == "this week"


def test_dateparser_adapter_reads_its_instant_as_a_range() -> None:
    """eval/timewords_compare.py's adapter: the comparison is fair only if dateparser's finds become ranges."""
    from eval.timewords_compare import with_dateparser

    june = with_dateparser("What did the Fed decide in June?", "2022-10-21")
    assert (june.since, june.until) == ("2022-06-01", "2022-06-30")
    assert with_dateparser("Who is in charge now?", "2022-10-21").newest_first
    may = with_dateparser("What did Theresa May say?", "2022-10-21")  # the kind of find the grammar avoids
    assert (may.since, may.until) == ("2022-05-01", "2022-05-31")
