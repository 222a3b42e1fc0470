"""The baseline's index is cached by what it reads (article texts and URLs): metadata changes keep it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.baseline import Baseline
from rag.pipeline import Pipeline
from tests.conftest import IngestPaths

pytestmark = pytest.mark.integration

STORIES = [
    {"id": "harbour", "url": "https://example.com/harbour", "title": "Harbour strike ends",
     "text": "Dock workers ended the harbour strike on Tuesday after talks with the port authority. " * 8},
    {"id": "rates", "url": "https://example.com/rates", "title": "Rates rise",
     "text": "The central bank raised interest rates by half a point, citing stubborn inflation. " * 8},
]


def _write(path: Path, stories: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(s) + "\n" for s in stories), "utf-8")
    return path


def test_a_new_title_keeps_the_baseline_index_and_a_new_text_rebuilds_it(
    pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path
) -> None:
    corpus = _write(tmp_path / "news.jsonl", STORIES)
    ingest_paths(corpus)
    baseline = Baseline(pipeline.store, pipeline.embedder, tmp_path / "baseline")
    first = baseline.build()
    assert first.embedded == first.chunks > 0 and first.articles == 2
    assert baseline.search("Who ended the strike?", 1)[0].article_id == "harbour"

    retitled = [{**STORIES[0], "title": "Port strike over"}, STORIES[1]]
    assert ingest_paths(_write(corpus, retitled)).updated == 1
    again = Baseline(pipeline.store, pipeline.embedder, tmp_path / "baseline").build()
    assert (again.collection, again.embedded, again.chunks) == (first.collection, 0, first.chunks)

    rewritten = [{**STORIES[0], "text": STORIES[0]["text"] + "Ships sailed again on Wednesday."}, STORIES[1]]
    assert ingest_paths(_write(corpus, rewritten)).updated == 1
    changed = Baseline(pipeline.store, pipeline.embedder, tmp_path / "baseline").build()
    assert changed.collection != first.collection and changed.embedded == changed.chunks > 0
