"""The ranking pinned: the same passages, in the same order, with the same scores, on a fixed small corpus.

Recorded from the retriever before it was reorganised into stages (issue 14); a change that moves any of
these on purpose must say why in its commit and re-record them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.filters import Filters
from rag.pipeline import Pipeline
from tests.conftest import IngestPaths
from tests.rag.ranking_fixture import QUESTIONS, write_corpus

pytestmark = pytest.mark.integration

PINNED: list[list[tuple[str, int, dict[str, float]]]] = [
    [
        ('strike', 1, {'bm25': 1.0234, 'dense': 0.775807, 'fused': 0.03981, 'title': 0.6146}),
        ('pay-deal', 0, {'bm25': 0.8882, 'dense': 0.72925, 'fused': 0.03719, 'title': 1.0839}),
        ('link-only', 0, {'bm25': 0.3019, 'dense': 0.613296, 'fused': 0.03638, 'title': 0.6146}),
        ('cranes', 0, {'bm25': 0.1368, 'dense': 0.343317, 'fused': 0.03586, 'title': 0.6044}),
        ('bread', 0, {'bm25': 0.0, 'dense': -0.030735, 'fused': 0.01389}),
        ('strike', 3, {'bm25': 1.0208, 'dense': 0.777571, 'fused': 0.0396, 'title': 0.6146}),
    ],
    [
        ('pay-deal', 0, {'bm25': 0.8882, 'dense': 0.72925, 'fused': 0.07719, 'title': 1.0839}),
        ('link-only', 0, {'bm25': 0.3019, 'dense': 0.613296, 'fused': 0.07638, 'title': 0.6146}),
        ('strike', 1, {'bm25': 1.0234, 'dense': 0.775807, 'fused': 0.05981, 'title': 0.6146}),
        ('cranes', 0, {'bm25': 0.1368, 'dense': 0.343317, 'fused': 0.03586, 'title': 0.6044}),
    ],
    [
        ('link-only', 0, {'bm25': 1.3161, 'dense': 0.600896, 'fused': 0.08099, 'title': 0.9903}),
        ('pay-deal', 0, {'bm25': 1.1725, 'dense': 0.26575, 'fused': 0.07041}),
        ('strike', 1, {'bm25': 0.1749, 'dense': 0.44408, 'fused': 0.05932, 'title': 0.3073}),
        ('bread', 0, {'bm25': 0.0, 'dense': 0.019321, 'fused': 0.03408}),
        ('cranes', 0, {'bm25': 0.0, 'dense': -0.054475, 'fused': 0.01389}),
    ],
    [
        ('cranes', 0, {'bm25': 1.6278, 'dense': 0.521588, 'fused': 0.04099, 'title': 0.6044}),
        ('strike', 0, {'bm25': 0.2533, 'dense': 0.227765, 'fused': 0.03226}),
    ],
    [
        ('pay-deal', 0, {'bm25': 0.0, 'dense': 0.077181, 'fused': 0.01639}),
        ('link-only', 0, {'bm25': 0.0, 'dense': 0.021771, 'fused': 0.01613}),
        ('strike', 1, {'bm25': 0.0, 'dense': -0.029121, 'fused': 0.01587}),
        ('cranes', 0, {'bm25': 0.0, 'dense': -0.058952, 'fused': 0.01408}),
    ],
    [
        ('cranes', 0, {'bm25': 1.931, 'dense': 0.567189, 'fused': 0.08099, 'title': 1.2087}),
        ('bread', 0, {'bm25': 0.0, 'dense': 0.007545, 'fused': 0.03389}),
        ('strike', 0, {'bm25': 0.2533, 'dense': 0.222502, 'fused': -0.00774}),
        ('link-only', 0, {'bm25': 0.0, 'dense': 0.106157, 'fused': -0.02571}),
        ('pay-deal', 0, {'bm25': 0.0, 'dense': 0.100059, 'fused': -0.02592}),
        ('strike', 1, {'bm25': 0.2512, 'dense': 0.207407, 'fused': -0.00875}),
        ('strike', 2, {'bm25': 0.2506, 'dense': 0.202965, 'fused': -0.01014}),
    ],
]


def test_the_ranking_is_exactly_as_recorded(pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path) -> None:
    report = ingest_paths(write_corpus(tmp_path / "ranking"))
    assert report.exit_code == 0, report.as_dict()
    got = []
    for question, options in QUESTIONS:
        filters = options.get("filters", Filters())
        assert isinstance(filters, Filters)
        passages = pipeline.retriever.search(
            question, options.get("k"), filters, options.get("asked_on"), options.get("lead_passages", 1)  # type: ignore[arg-type]
        )
        got.append([(p.chunk.article_id, p.chunk.position, dict(sorted(p.scores.items()))) for p in passages])
    assert got == PINNED


def test_the_page_reads_these_score_keys(pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path) -> None:
    ingest_paths(write_corpus(tmp_path / "ranking"))
    passages = pipeline.retrieve("harbour strike dock workers Rotterdam", k=3)
    assert {"fused", "dense", "bm25"} <= set(passages[0].scores)
    assert any("title" in p.scores for p in passages)
