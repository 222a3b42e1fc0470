"""A question's time words as a date range or a newest-first preference, relative to the question's date.

A small grammar of regular expressions, not ``dateparser``: measured with ``python -m eval.timewords_compare``
on 104 hand-labelled cases (54 edge cases in ``eval/questions/timewords_parse.jsonl``, the 50 questions of
``eval/questions/timewords.jsonl``), this grammar reads 104 right and ``dateparser.search_dates`` 52 (33/54
and 19/50), even with its one instant mapped to a range as generously as we could. dateparser reads "May" the
name and "march" the verb as dates, returns one instant for "this week", takes "since" and "before" as the
date itself and has no notion of "latest". (The labels were written by the grammar's author, so the edge
cases favour it; the question set's were written with the questions, before either parser ran.)

What the phrases mean (``d`` = the question's date; every range ends on ``d`` at the latest):

- "today" d; "yesterday" d-1 to d (a report of yesterday's news may be dated today);
- "this week" / "past week" the 7 days to d; "last week" the calendar week (Monday–Sunday) before d's;
- "this month", "this year" from its first day to d; "last month", "last year" the calendar one before;
- "past N days/weeks/months", "N days/weeks/months/years ago";
- a weekday ("on Monday") the latest such day up to d, and the day after (asked on a Monday, "Monday" is
  today); "since Monday" / "last Monday" the one before d's;
- a month ("in June") the latest June that has begun by d (asked in May 2023: June 2022), or "June 2022",
  "June 12", "June 12, 2022"; a year ("2019", "in 2019"); "since X", "after X", "before X", "until X";
- "over the last year" the twelve months to d; a comparison ("higher than a year ago") is no range;
- "latest", "most recent", "newest", "now", "currently", "recently": newest first, no range.

Words that look like dates and are not stay out: "May" or "June" with no date word around them (Theresa May),
"march" the verb, a year inside a name ("Fox 2019 report", "Vision 2030", "in the 2023 spending bill") or
counting ("2019 votes"), a year after the question's (an event to come, not a date to search), holidays such
as "Black Friday".
When several phrases occur, relative ones ("this week", "Monday") win over a day, a day over a month and a
month over a year, so "the 2022 French Open this week" searches this week.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class TimeWords:
    """What a question's time words ask for: an inclusive ISO range ("" = open) and/or newest first."""

    since: str = ""
    until: str = ""
    newest_first: bool = False
    phrase: str = ""  # the words matched, as written in the question
    no_time_words: bool = True

    @property
    def has_range(self) -> bool:
        return bool(self.since or self.until)


NONE = TimeWords()

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}

_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar" \
         r"|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_YEAR = r"(?:19\d\d|20\d\d)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_NUM = r"(?:\d{1,2}|a|one|two|three|four|five|six|seven|ten)"
# Words before a month or weekday that make it a date; without one a bare month name is too often a name.
_LEAD = r"(?:since|from|after|before|until|till|through|in|during|on|of|by|last|this|early|late|mid-?|since early" \
        r"|since late|end of|start of|beginning of)"
_HOLIDAY = re.compile(r"(?:black|cyber|good|super|ash|holy|easter|blue|giving|small business)\s+$", re.I)
_COUNTED = re.compile(r"\s*(?:votes?|people|troops|jobs|deaths|cases|points|units|cars|homes|miles|feet|acres"
                      r"|dollars|pounds|tons|employees|workers|students|seats|%|percent)\b", re.I)
_COMPARED = re.compile(r"\b(?:than|compared\s+(?:to|with)|versus|vs\.?)\s+(?:\S+\s+){0,3}$", re.I)
_NEWEST = re.compile(r"\b(?:latest|most recent(?:ly)?|newest|right now|now|currently|current|recently|recent"
                     r"|these days|as of today)\b", re.I)


Range = tuple[date | None, date | None]
Found = tuple[int, int, int, Range, str]  # rank, start, end, range, phrase
_RELATIVE, _DAYRANK, _MONTHRANK, _YEARRANK = 0, 1, 2, 3

_REL = re.compile(
    r"\b(?P<lead>since\s+)?(?P<w>today|tonight|yesterday|this\s+(?:morning|afternoon|evening|weekend|week|month|year)"
    r"|(?:the\s+)?past\s+(?:seven\s+days|week|month|year)|(?:the\s+)?last\s+(?:weekend|week|month|year|seven\s+days"
    r"|7\s+days))\b",
    re.I,
)
_BACK = re.compile(rf"\b(?:the\s+)?(?:past|last|previous)\s+(?P<n>{_NUM})\s+(?P<unit>day|week|month|year)s?\b", re.I)
_AGO = re.compile(rf"\b(?P<n>{_NUM})\s+(?P<unit>day|week|month|year)s?\s+ago\b", re.I)
_ANCHOR = re.compile(
    rf"(?<![\w$#.,-])(?P<lead>{_LEAD}\s+(?:the\s+)?)?(?:"
    rf"(?P<wd>{_WEEKDAY})"
    rf"|(?P<m1>{_MONTH})\s+(?P<d1>{_DAY})(?:,?\s+(?P<y1>{_YEAR}))?"
    rf"|(?P<d2>{_DAY})\s+(?:of\s+)?(?P<m2>{_MONTH})(?:,?\s+(?P<y2>{_YEAR}))?"
    rf"|(?P<m3>{_MONTH}),?\s+(?P<y3>{_YEAR})"
    rf"|(?P<m4>{_MONTH})"
    rf"|(?P<y4>{_YEAR})"
    rf")(?![\w,%-]|\.\d)",
    re.I,
)


def parse(question: str, asked_on: date | str) -> TimeWords:
    """The date range and preference ``question``'s time words ask for, relative to ``asked_on``.

    >>> parse("What was the mortgage rate this week?", "2022-10-21")
    TimeWords(since='2022-10-15', until='2022-10-21', newest_first=False, phrase='this week', no_time_words=False)
    >>> parse("What did the Fed decide in June?", "2023-05-10").since
    '2022-06-01'
    >>> parse("What is the latest on the strike?", "2022-06-16").newest_first
    True
    >>> parse("What did Theresa May say about Brexit?", "2022-06-16").no_time_words
    True
    """
    d = asked_on if isinstance(asked_on, date) else date.fromisoformat(asked_on[:10])
    found = _phrases(question, d)
    newest = _NEWEST.search(question)
    if newest and question[newest.end() : newest.end() + 1] == "-":  # "now-defunct"
        newest = None
    if not found and not newest:
        return NONE
    since = until = ""
    phrases = []
    if found:
        _, _, _, (start, end), text = min(found, key=lambda item: (item[0], item[1]))
        until = min(end, d).isoformat() if end else ""
        since = start.isoformat() if start else ""
        if since and until and since > until:
            since = until
        phrases.append(text)
    if newest:
        phrases.append(newest.group(0))
    return TimeWords(since, until, newest is not None, " … ".join(phrases), no_time_words=False)


def _phrases(question: str, d: date) -> list[Found]:
    """Every time phrase of ``question`` that means a range; one inside a longer one is dropped."""
    found: list[Found] = []
    for pattern, handler in ((_REL, _relative), (_BACK, _span_back), (_AGO, _ago), (_ANCHOR, _anchor)):
        for match in pattern.finditer(question):
            if _COMPARED.search(question[: match.start()]):
                continue  # "higher than a year ago" compares with that time; it does not ask about it
            result = handler(match, d, question)
            if result is not None:
                rank, span = result
                found.append((rank, match.start(), match.end(), span, re.sub(r"\s+", " ", match.group(0).strip())))
    return [f for f in found if not any(g[1] <= f[1] and f[2] <= g[2] and g[2] - g[1] > f[2] - f[1] for g in found)]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word.lower()]


def _relative(match: re.Match[str], d: date, _q: str) -> tuple[int, Range] | None:
    word = re.sub(r"\s+", " ", match.group("w").lower())
    if word.startswith("the last "):  # "over the last year": the twelve months to d, not last calendar year
        word = "past " + word.removeprefix("the last ")
    word = word.removeprefix("the ")
    span: Range
    if word in ("today", "tonight") or word in ("this morning", "this afternoon", "this evening"):
        span = d, d
    elif word == "yesterday":
        span = d - timedelta(days=1), d
    elif word in ("this week", "past week", "past seven days", "last seven days", "last 7 days"):
        span = d - timedelta(days=6), d
    elif word == "last week":
        span = _monday(d) - timedelta(days=7), _monday(d) - timedelta(days=1)
    elif word.endswith("weekend"):
        saturday = d - timedelta(days=(d.weekday() - 5) % 7)
        span = saturday, saturday + timedelta(days=2)  # Monday's papers report the weekend
    elif word == "this month":
        span = d.replace(day=1), d
    elif word == "last month":
        end = d.replace(day=1) - timedelta(days=1)
        span = end.replace(day=1), end
    elif word == "past month":
        span = d - timedelta(days=30), d
    elif word == "past year":
        span = d - timedelta(days=365), d
    elif word == "this year":
        span = date(d.year, 1, 1), d
    else:  # last year
        span = date(d.year - 1, 1, 1), date(d.year - 1, 12, 31)
    return _RELATIVE, ((span[0], d) if match.group("lead") else span)


def _span_back(match: re.Match[str], d: date, _q: str) -> tuple[int, Range] | None:
    """"past 3 days", "last two weeks": from that far back to ``d``."""
    return _RELATIVE, (d - timedelta(days=_count(match.group("n")) * _UNITS[match.group("unit").lower()]), d)


def _ago(match: re.Match[str], d: date, _q: str) -> tuple[int, Range] | None:
    """"two weeks ago": the day (and the next), the week, the month or the year around that point."""
    unit = match.group("unit").lower()
    point = d - timedelta(days=_count(match.group("n")) * _UNITS[unit])
    if unit == "day":
        return _RELATIVE, (point, point + timedelta(days=1))
    if unit == "week":
        return _RELATIVE, (_monday(point), _monday(point) + timedelta(days=6))
    if unit == "month":
        return _RELATIVE, _month_range(point.year, point.month)
    return _RELATIVE, (date(point.year, 1, 1), date(point.year, 12, 31))


def _anchor(match: re.Match[str], d: date, question: str) -> tuple[int, Range] | None:
    """A weekday, a day, a month or a year, with what its lead word ("since", "before", "last") does to it."""
    lead = re.sub(r"\s+(the\s+)?$", "", (match.group("lead") or "").lower())
    found = _anchor_range(match, d, question, lead)
    if found is None:
        return None
    rank, (start, end) = found
    if start > d:
        return None  # an event to come ("the 2024 Olympics"), not a date to search
    if lead in ("since", "from", "since early", "since late"):
        return rank, (start, d)
    if lead == "after":
        return rank, (end + timedelta(days=1), d)
    if lead == "before":
        return rank, (None, start - timedelta(days=1))
    if lead in ("until", "till", "through"):
        return rank, (None, end)
    return rank, (start, end)


def _anchor_range(match: re.Match[str], d: date, question: str, lead: str) -> tuple[int, tuple[date, date]] | None:
    g = match.groupdict()
    if g["wd"]:
        if _HOLIDAY.search(question[: match.start("wd")]):
            return None
        back = (d.weekday() - _WEEKDAYS[g["wd"].lower()]) % 7
        if back == 0 and lead in ("since", "last", "after", "from"):
            back = 7  # asked on a Monday, "since Monday" is a week ago; "on Monday" is today
        day = d - timedelta(days=back)
        return _RELATIVE, (day, day + timedelta(days=1))
    month_word = g["m1"] or g["m2"] or g["m3"] or g["m4"]
    month = _MONTHS[month_word.lower().rstrip(".")] if month_word else 0
    if g["d1"] or g["d2"]:
        day_number = int(re.sub(r"\D", "", g["d1"] or g["d2"]))
        year_word = g["y1"] or g["y2"]
        year = int(year_word) if year_word else (d.year if (month, day_number) <= (d.month, d.day) else d.year - 1)
        try:
            day = date(year, month, day_number)
        except ValueError:
            return None
        return _DAYRANK, (day, day + timedelta(days=1))
    if g["m3"]:
        return _MONTHRANK, _month_range(int(g["y3"]), month)
    if g["m4"]:
        if not lead:
            return None  # "May" the name, "march" the verb
        if lead == "this":
            return _MONTHRANK, _month_range(d.year, month)
        year = d.year if month < d.month or (month == d.month and lead != "last") else d.year - 1
        return _MONTHRANK, _month_range(year, month)
    year = int(g["y4"])
    if _COUNTED.match(question, match.end()) or (not lead and _is_name(question, match.start())):
        return None
    if re.search(r"\bthe\s+$", match.group("lead") or "", re.I):
        return None  # "in the 2023 spending bill", "at the 2022 World Cup": the year names the thing
    return _YEARRANK, (date(year, 1, 1), date(year, 12, 31))


def _is_name(question: str, at: int) -> bool:
    """Whether the word before ``at`` is a capitalised word in mid-sentence ("Fox 2019 report", "Vision 2030")."""
    before = question[:at].rstrip()
    words = before.split()
    if not words or not words[-1][:1].isupper():
        return False
    rest = before[: len(before) - len(words[-1])].rstrip()
    return bool(rest) and rest[-1] not in ".?!:"
