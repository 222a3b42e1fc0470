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


def day_number(iso_date: str) -> int:
    """YYYYMMDD as an int (0 when unknown), so Chroma can range-filter dates.

    >>> day_number("2022-06-12"), day_number("")
    (20220612, 0)
    """
    return int(iso_date[:10].replace("-", "")) if len(iso_date) >= 10 else 0
