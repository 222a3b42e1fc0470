"""Which reads a question's time words right more often: ``rag.timewords`` or ``dateparser.search_dates``?

    python -m eval.timewords_compare [--cases FILE ...] [--show]

Each case is a question, its ``asked_on`` date and the range it should search (``since``/``until``, "" for
open) and ``newest_first``; a parser is right on a case when all three match. The default cases are the
hand-labelled edge cases of ``eval/questions/timewords_parse.jsonl`` and the questions of
``eval/questions/timewords.jsonl`` (their ``expect_since``/``expect_until``/``expect_newest`` keys).

``dateparser`` finds a phrase and one instant; the adapter below turns that into a range the way our grammar
would, as generously as it can (a year phrase becomes the year, a month the month, "this week" the 7 days,
"last week" the calendar week, a weekday or a day that day and the next, "since X" from X to the question's
date, "now" newest first), so the comparison measures finding and reading the phrase, not our conventions.
"""

from __future__ import annotations

import argparse
import calendar
import json
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path

from rag.timewords import TimeWords, parse

QUESTIONS = Path(__file__).resolve().parent / "questions"
DEFAULT_CASES = (QUESTIONS / "timewords_parse.jsonl", QUESTIONS / "timewords.jsonl")


def load_cases(paths: Iterable[Path]) -> list[dict[str, object]]:
    """Cases from parse-case files (``since``/``until``/``newest_first``) and question sets (``expect_*``)."""
    cases: list[dict[str, object]] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            cases.append({
                "question": row["question"],
                "asked_on": str(row["asked_on"]).replace("/", "-"),
                "since": row.get("since", row.get("expect_since", "")),
                "until": row.get("until", row.get("expect_until", "")),
                "newest_first": bool(row.get("newest_first", row.get("expect_newest", False))),
            })
    return cases


def with_dateparser(question: str, asked_on: str) -> TimeWords:
    """``dateparser.search_dates``'s first find, as a range (see the module docstring)."""
    from dateparser.search import search_dates

    d = date.fromisoformat(asked_on)
    settings = {"RELATIVE_BASE": datetime(d.year, d.month, d.day), "PREFER_DATES_FROM": "past"}
    found = search_dates(question, languages=["en"], settings=settings) or []
    if not found:
        return TimeWords()
    text, moment = found[0]
    point, low = moment.date(), text.lower()
    if low.strip() in ("now", "right now"):
        return TimeWords(newest_first=True, phrase=text, no_time_words=False)
    start, end = _granule(low, point, d)
    if re.search(rf"\bsince\s+{re.escape(text)}", question, re.I) or low.startswith("since"):
        end = d
    return TimeWords(start.isoformat(), min(end, d).isoformat(), phrase=text, no_time_words=False)


def _granule(low: str, point: date, d: date) -> tuple[date, date]:
    if re.fullmatch(r"(in |during |of )?\d{4}", low.strip()):
        return date(point.year, 1, 1), date(point.year, 12, 31)
    if "week" in low:
        if "last" in low:
            monday = point - timedelta(days=point.weekday())
            return monday, monday + timedelta(days=6)
        return point - timedelta(days=6), point
    if "month" in low or (not re.search(r"\d", low.replace(str(point.year), "")) and _names_month(low)):
        return point.replace(day=1), point.replace(day=calendar.monthrange(point.year, point.month)[1])
    if "year" in low:
        return date(point.year, 1, 1), date(point.year, 12, 31)
    if "today" in low:
        return point, point
    return point, point + timedelta(days=1)


def _names_month(low: str) -> bool:
    return any(name.lower() in low for name in calendar.month_name if name)


def score(cases: list[dict[str, object]], show: bool = False) -> dict[str, int]:
    """How many cases each parser gets right (since, until and newest_first all equal)."""
    right = {"grammar": 0, "dateparser": 0, "cases": len(cases)}
    for case in cases:
        question, asked_on = str(case["question"]), str(case["asked_on"])
        want = (case["since"], case["until"], case["newest_first"])
        for name, parser in (("grammar", parse), ("dateparser", with_dateparser)):
            got = parser(question, asked_on)
            ok = (got.since, got.until, got.newest_first) == want
            right[name] += ok
            if show and not ok:
                print(f"{name:10} {asked_on} {question!r}: want {want}, got {(got.since, got.until, got.newest_first)}")
    return right


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, nargs="*", default=list(DEFAULT_CASES))
    parser.add_argument("--show", action="store_true", help="print every case a parser gets wrong")
    args = parser.parse_args(argv)
    print(json.dumps(score(load_cases(args.cases), args.show)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
