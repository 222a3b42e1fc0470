"""Retrieval filters, shared by the dense store and the BM25 index."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some sources and/or a published-date range (ISO dates, inclusive)."""

    sources: tuple[str, ...] = ()
    since: str = ""
    until: str = ""

    def __bool__(self) -> bool:
        return bool(self.sources or self.since or self.until)

    def admits(self, source: str, published_at: str) -> bool:
        """The filter semantics, written once: every backend (Chroma's ``where``, the BM25 masks) must select
        exactly what this selects, and the store contract tests hold each of them to it. A source filter
        matches the source name exactly; a date range is inclusive, and an article without a known date is
        outside every range.

        >>> f = Filters(sources=("Wire",), since="2022-06-01")
        >>> f.admits("Wire", "2022-06-01"), f.admits("Wire", ""), f.admits("Post", "2022-07-01")
        (True, False, False)
        >>> Filters().admits("", "")
        True
        """
        if self.sources and source not in self.sources:
            return False
        day = day_number(published_at)
        if (self.since or self.until) and day == 0:
            return False
        if self.since and day < day_number(self.since):
            return False
        return not (self.until and day > day_number(self.until))


def day_number(iso_date: str) -> int:
    """YYYYMMDD as an int (0 when unknown), so Chroma can range-filter dates.

    >>> day_number("2022-06-12"), day_number("")
    (20220612, 0)
    """
    return int(iso_date[:10].replace("-", "")) if len(iso_date) >= 10 else 0
