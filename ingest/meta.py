"""Small pure helpers for article metadata: dates to ISO, titles from text or from the article's URL."""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import urlsplit

from rag.sentences import sentence_spans

_SLASHED = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
TITLE_MAX = 150
SHORT_TITLE = 90  # a title cut from a long first sentence: long enough to recognise, short enough to scan
# "CNN —", "Colombo, Sri Lanka (CNN) —", "Reuters --": a dateline opens the story, it is not its headline.
_DATELINE = re.compile(r"^[^.!?—–]{0,60}(?:—|–|--)$")
_SLUG_SPLIT = re.compile(r"[-_+.,]+")
_EXTENSION = re.compile(r"\.(?:html?|php|aspx?|jsp|cms)$", re.I)


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
    >>> title_from_text("London CNN —\\n\\nLiz Truss became prime minister on Tuesday.")
    'Liz Truss became prime minister on Tuesday.'
    """
    lines = [line.strip() for line in text.splitlines() if line.strip() and not _DATELINE.match(line.strip())]
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


def title_from_url(url: str) -> str:
    """A headline from the URL's slug (``/2022/06/15/ford-recall/index.html`` → ``Ford recall``), or "".

    Newsrooms write the slug from the headline, so for an article that came without a title it says more than
    a scraped first line, which is often a dateline, an ad prompt or a newsletter plug. A slug needs at least
    words (letters or digits, not both: ``c164ac93`` is an id) with a real word among them, so ids, dates and page
    names (``index.html``) are skipped; the longest slug wins.

    >>> title_from_url("https://www.cnn.com/2022/06/15/business/ford-recall/index.html")
    'Ford recall'
    >>> title_from_url("https://example.com/story/money/cars/2022/06/15/ford-recalls-2-9-m-vehicles/7633342001/")
    'Ford recalls 2 9 m vehicles'
    >>> title_from_url("https://cnn.com/2022/10/25/world/gallery/diwali-2022/index.html")
    'Diwali 2022'
    >>> title_from_url("https://example.com/news/12345/h_c164ac931cc8"), title_from_url("not a url")
    ('', '')
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"}:
        return ""
    best: list[str] = []
    for segment in parts.path.split("/"):
        words = [w for w in _SLUG_SPLIT.split(_EXTENSION.sub("", segment)) if w]
        sluglike = len(words) >= 2 and all(w.isalpha() or w.isdigit() for w in words)
        if sluglike and any(len(w) >= 3 and w.isalpha() for w in words) and len(words) >= len(best):
            best = words
    if not best:
        return ""
    title = " ".join(best)
    return (title[0].upper() + title[1:])[:TITLE_MAX]


def best_title(given: str, text: str, url: str = "", markdown: bool = False) -> str:
    """The title an article is shown and indexed with: the one it came with, else its URL's slug, else its text's.

    >>> best_title("", "1. How relevant is this ad to you?", "https://cnn.com/2022/08/02/taco-bell-pizza/index.html")
    'Taco bell pizza'
    >>> best_title("Given", "Body.", "https://cnn.com/a-b-c"), best_title("", "Short line\\nBody.", "")
    ('Given', 'Short line')
    """
    if given:
        return given
    if markdown and any(line.lstrip().startswith("#") for line in text.splitlines()):
        heading = title_from_text(text, markdown=True)
        if heading:
            return heading
    return title_from_url(url) or title_from_text(text, markdown=markdown)
