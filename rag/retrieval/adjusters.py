"""Score adjusters: a headline match lifts every passage of its article (and brings in articles found by
their headline alone); the date prior favours articles from just before the question."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rag.retrieval.candidates import Candidate, Ranking


@dataclass(frozen=True)
class TitleBonusConfig:
    """The headline list counts ``weight`` of a passage list in the fusion: a headline match is strong
    evidence, but headlines are short and many are generic ("5 things to know for June 14"). 0.5 came in
    with the headline index (RealTime QA full corpus with the date: R@5 0.818 → 0.864 with the date prior
    below, commit 58b4c9e) and is what docs/benchmarks/realtimeqa-full-2026-11-27/report.md measured."""

    weight: float = 0.5
    rrf_k: int = 60


class TitleBonus:
    """Adds ``weight / (rrf_k + rank)`` of the article's headline rank to each of its candidates; an article
    matched by headline with no passage candidate stands in with that bonus alone."""

    def __init__(self, config: TitleBonusConfig) -> None:
        self.config = config

    def run(self, ranking: Ranking) -> None:
        weight, rrf_k = self.config.weight, self.config.rrf_k
        bonus = {aid: weight / (rrf_k + rank) for rank, (aid, _, _) in enumerate(ranking.titles, 1)}
        ranking.candidates = [c.plus(bonus.get(c.article_id, 0.0)) for c in ranking.candidates]
        with_chunks = {chunk.article_id for chunk in ranking.chunks.values()}
        ranking.candidates += [
            Candidate(aid, aid, iso_day(day), None, bonus[aid])
            for aid, _, day in ranking.titles
            if aid not in with_chunks
        ]


@dataclass(frozen=True)
class DatePriorConfig:
    """How much the question's date counts. One rank-1 RRF contribution is 1/61 ≈ 0.016, so ``weight`` 0.04
    gives an article from the question's week about two and a half of them: enough to lift it over same-story
    coverage from other weeks. ``undated`` 0.5 scores an undated article as if from the fortnight before
    (scoring it as old would bury every undated page whenever a corpus mixes the two). Both are the values
    docs/benchmarks/realtimeqa-full-2026-11-27/report.md measured (R@5 0.945, MRR 0.789 with ``asked_on``)."""

    weight: float = 0.04
    undated: float = 0.5


class DatePrior:
    """Adds ``weight * date_prior(published, asked_on)`` when the question has a date; the query's own
    ``date_weight``, when it has one, stands in for the configured ``weight`` (per call, never stored here)."""

    def __init__(self, config: DatePriorConfig) -> None:
        self.config = config

    def run(self, ranking: Ranking) -> None:
        asked_on = ranking.query.asked_on
        if not asked_on:
            return
        weight = self.config.weight if ranking.query.date_weight is None else ranking.query.date_weight
        undated = self.config.undated
        ranking.candidates = [
            c.plus(weight * date_prior(c.published_at, asked_on, undated)) for c in ranking.candidates
        ]


def date_prior(published_at: str, asked_on: str, undated: float = DatePriorConfig.undated) -> float:
    """How much a question asked on ``asked_on`` favours an article published on ``published_at``.

    News questions ask about the recent past: an article from the week up to the question is the likeliest
    source, the weeks before it less so, and one published after the question was asked cannot be it. (RealTime
    QA: 204 of 220 gold articles are 0-5 days older than their question.) An article without a date gets
    ``undated``, the middle of the scale.

    >>> [date_prior(d, "2022-06-16") for d in ("2022-06-12", "2022-06-05", "2022-05-30", "2022-01-01", "2022-06-17")]
    [1.0, 0.5, 0.2, 0.0, -1.0]
    >>> date_prior("", "2022-06-16"), date_prior("2022-13-45", "2022-06-16")
    (0.5, 0.5)
    """
    if len(asked_on) < 10:
        return 0.0
    if len(published_at) < 10:
        return undated
    try:
        days = (date.fromisoformat(asked_on[:10]) - date.fromisoformat(published_at[:10])).days
    except ValueError:
        return undated
    if days < 0:
        return -1.0
    if days <= 6:
        return 1.0
    if days <= 14:
        return 0.5
    return 0.2 if days <= 31 else 0.0


def iso_day(day: int) -> str:
    """A ``day_number`` back to ISO, "" when unknown.

    >>> iso_day(20220612), iso_day(0)
    ('2022-06-12', '')
    """
    text = str(day)
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if day > 0 and len(text) == 8 else ""
