"""Time words on the query path: the question's range becomes a date filter, "latest" a newest-first ranking,
and a question with no time words a milder recency preference (``rag.timewords`` reads the words)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from rag.filters import Filters
from rag.records import Passage
from rag.timewords import NONE, TimeWords, parse


@dataclass(frozen=True)
class RecencyWeights:
    """How much the date prior (``rag.retrieval.adjusters.date_prior``) counts, by what the question says about time.

    ``dated`` is the retriever's own weight, fitted to RealTime QA's "this week" questions and left as it is.
    ``mild`` is for questions with no time words, so an archive question is not pulled toward last week;
    ``newest`` ranks around the newest article found for a "latest" question. Measured on
    eval/questions/timewords.jsonl (eval/README.md, "Time words"), never fitted on RealTime QA 2022.

    ``mild`` is 0.005, what the time-word set measured (eval/README.md, "The mild weight"). The answer
    selector's refusal stage reads the best passage's fused score (rag/selector.py, ``first_fused``), which the
    date prior moves, so the selector is fitted on passages retrieved with these same weights (``make
    fit-selector`` retrieves through ``Pipeline.retrieve``).
    """

    dated: float | None = None  # None: the DatePrior stage's weight (DatePriorConfig.weight, 0.04)
    mild: float | None = 0.005
    newest: float = 0.06


RECENCY = RecencyWeights()

# search(question, k, filters, asked_on, lead_passages, date_weight) -> passages
Search = Callable[[str, "int | None", Filters, "str | None", int, "float | None"], list[Passage]]


@dataclass(frozen=True)
class Timed:
    """What a time-aware search found, and what it searched."""

    passages: list[Passage]
    searched: tuple[str, str] | None = None  # the published-date range used as a filter ("" = open end)
    words: TimeWords = NONE
    warnings: tuple[str, ...] = ()


def intersect(filters: Filters, words: TimeWords) -> Filters:
    """The explicit filters narrowed by the question's range; when the two do not overlap, the explicit ones win.

    >>> intersect(Filters(since="2022-06-01"), TimeWords("2022-06-10", "2022-06-16", no_time_words=False))
    Filters(sources=(), since='2022-06-10', until='2022-06-16')
    >>> intersect(Filters(until="2022-01-31"), TimeWords("2022-06-10", "2022-06-16", no_time_words=False))
    Filters(sources=(), since='', until='2022-01-31')
    """
    if not words.has_range:
        return filters
    since = max(filters.since, words.since)
    until = min(x for x in (filters.until, words.until) if x) if (filters.until or words.until) else ""
    if since and until and since > until:
        return filters
    return Filters(sources=filters.sources, since=since, until=until)


def timed_search(
    search: Search,
    question: str,
    k: int | None,
    filters: Filters,
    asked_on: str | None,
    lead_passages: int = 1,
    enabled: bool = True,
) -> Timed:
    """Search with the question's time words applied (``enabled=False``: as if it had none, the old way).

    The question's words are read relative to ``asked_on`` (today when None). A range that holds no articles
    at all falls back to the search without it, with a warning that says so.
    """
    if not enabled:
        return Timed(search(question, k, filters, asked_on, lead_passages, None), _range(filters))
    words = parse(question, asked_on or date.today().isoformat())
    if words.no_time_words:
        return Timed(search(question, k, filters, asked_on, lead_passages, RECENCY.mild), _range(filters), words)
    narrowed = intersect(filters, words)
    if words.newest_first:
        passages = _newest_first(search, question, k, narrowed, asked_on, lead_passages)
    else:
        passages = search(question, k, narrowed, asked_on, lead_passages, RECENCY.dated)
    if passages or narrowed == filters:
        return Timed(passages, _range(narrowed), words)
    since, until = _range(narrowed) or ("", "")
    warning = (f"No articles {_describe(since, until)} (read from “{words.phrase}”), so all dates were searched.")
    fallback = search(question, k, filters, asked_on, lead_passages, RECENCY.dated)
    return Timed(fallback, _range(filters), words, (warning,))


def _newest_first(
    search: Search, question: str, k: int | None, filters: Filters, asked_on: str | None, lead_passages: int
) -> list[Passage]:
    """Rank as if asked the day of the newest article among the best matches, and more strongly: "latest" means
    the newest coverage of this story, however long before the question it was written.

    The anchor is only as good as the first search: when its newest match is another story (a gas-price article
    for "the mortgage rate now"), the right one ranks lower, and an article newer than the anchor that the
    first search missed counts as published after the question (``date_prior``'s -1). A prior that keeps
    rising to the question's date, not one anchored on a day, would fix both; it needs a date stage of its own.
    """
    first = search(question, k, filters, asked_on, 1, RECENCY.dated)
    days = [p.chunk.published_at[:10] for p in first if len(p.chunk.published_at) >= 10]
    if asked_on:
        days = [d for d in days if d <= asked_on]
    anchor = max(days) if days else asked_on
    return search(question, k, filters, anchor, lead_passages, RECENCY.newest)


def _range(filters: Filters) -> tuple[str, str] | None:
    return (filters.since, filters.until) if filters.since or filters.until else None


def _describe(since: str, until: str) -> str:
    """How a searched range reads in a sentence.

    >>> _describe("2022-06-09", "2022-06-16"), _describe("", "2022-05-31"), _describe("2019-01-01", "")
    ('from 2022-06-09 to 2022-06-16', 'up to 2022-05-31', 'from 2019-01-01 on')
    """
    if since and until:
        return f"from {since} to {until}"
    return f"up to {until}" if until else f"from {since} on"


def describe_searched(searched: tuple[str, str] | None) -> str:
    """The line the CLI and the page show under an answer: "articles from 2022-06-09 to 2022-06-16"."""
    return f"articles {_describe(*searched)}" if searched else ""
