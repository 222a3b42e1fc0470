"""Sources by article: one number per cited article, in order of first citation, for showing an answer.

Answerers number citations by passage (``[n]`` is the nth retrieved passage), so one article read through
three passages gets three numbers and a one-source answer can say ``[4]``. ``number_by_article`` renumbers
the answer's markers per article, from ``[1]`` in reading order; the ``Citation`` records keep their article
offsets, so a source card can highlight every quoted span of its article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.records import Citation

_MARKER = re.compile(r"\[(\d+)\]")
_RUN = re.compile(r"\[\d+\](?:[ \t]*\[\d+\])+")


@dataclass(frozen=True)
class SourceArticle:
    """One cited article: its new number and every citation that quotes it (in article order)."""

    n: int
    article_id: str
    title: str
    url: str
    source: str
    published_at: str
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class Numbered:
    """An answer's text with per-article markers, and its sources in number order."""

    text: str
    sources: tuple[SourceArticle, ...]

    def number_of(self, article_id: str) -> int | None:
        return next((s.n for s in self.sources if s.article_id == article_id), None)


def number_by_article(text: str, citations: Sequence[Citation]) -> Numbered:
    """Renumber ``text``'s ``[n]`` markers so each cited article has one number, from 1 in order of first citation.

    Markers of the same article that end up side by side are merged; a marker no citation explains is left
    as it is (it may be part of a quoted text). Cited articles no marker names follow the marked ones.

    >>> def c(n, art, start):
    ...     return Citation(n, art, art.upper(), "", "", "q", start, start + 1)
    >>> out = number_by_article("Rain fell [4]. It was cold [2][5]. Roads shut [3].",
    ...                         [c(2, "b", 0), c(3, "a", 9), c(4, "a", 5), c(5, "b", 7)])
    >>> out.text
    'Rain fell [1]. It was cold [2]. Roads shut [1].'
    >>> [(s.n, s.article_id, [q.start for q in s.citations]) for s in out.sources]
    [(1, 'a', [5, 9]), (2, 'b', [0, 7])]
    >>> number_by_article("No markers.", []).text
    'No markers.'
    """
    article_of = {c.n: c.article_id for c in citations}
    order: list[str] = []
    for match in _MARKER.finditer(text):
        article = article_of.get(int(match.group(1)))
        if article is not None and article not in order:
            order.append(article)
    for cited in citations:
        if cited.article_id not in order:
            order.append(cited.article_id)
    number = {article: i for i, article in enumerate(order, start=1)}

    def renumber(match: re.Match[str]) -> str:
        article = article_of.get(int(match.group(1)))
        return match.group(0) if article is None else f"[{number[article]}]"

    renumbered = _RUN.sub(_merge_run, _MARKER.sub(renumber, text))
    sources = []
    for article in order:
        quotes = sorted({(c.start, c.end): c for c in citations if c.article_id == article}.values(),
                        key=lambda c: (c.start, c.end))
        first = quotes[0]
        sources.append(SourceArticle(number[article], article, first.title, first.url, first.source,
                                     first.published_at, tuple(quotes)))
    return Numbered(renumbered, tuple(sources))


def _merge_run(match: re.Match[str]) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(_MARKER.findall(match.group(0))))
