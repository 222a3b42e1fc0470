"""Small pure helpers for article metadata: dates to ISO, titles from text."""

from __future__ import annotations

import re
from datetime import date, datetime

from rag.sentences import sentence_spans

_SLASHED = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
TITLE_MAX = 150
SHORT_TITLE = 90  # a title cut from a long first sentence: long enough to recognise, short enough to scan


def parse_date(value: str) -> str:
    """An ISO date (YYYY-MM-DD) for the many ways articles write dates, or "" when unsure.

    >>> parse_date("2022/02/07"), parse_date("2022-06-12T10:00:00Z"), parse_date("June 12, 2022"), parse_date("soon")
    ('2022-02-07', '2022-06-12', '2022-06-12', '')
    """
    value = (value or "").strip()
    if not value:
        return ""
    match = _SLASHED.match(value)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        except ValueError:
            return ""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    from dateutil import parser as dateparser

    try:
        return dateparser.parse(value, fuzzy=False).date().isoformat()
    except (ValueError, OverflowError, TypeError):
        return ""


def title_from_text(text: str, markdown: bool = False) -> str:
    """The first heading or short first line; else the first sentence, shortened.

    >>> title_from_text("# Big news\\n\\nBody.", markdown=True), title_from_text("Short line\\nBody text.")
    ('Big news', 'Short line')
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    if markdown:
        for line in lines:
            if line.startswith("#"):
                return line.lstrip("#").strip()
    first = lines[0].lstrip("#").strip()
    if len(first) <= TITLE_MAX:
        return first
    spans = sentence_spans(first)
    sentence = first[spans[0][0] : spans[0][1]] if spans else first
    return sentence if len(sentence) <= TITLE_MAX else sentence[:SHORT_TITLE].rsplit(" ", 1)[0].rstrip(",;:") + "…"
