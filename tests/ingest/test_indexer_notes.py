"""What an ingest says about its articles: no false "same text as" notes for headline-only links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import IngestPaths

pytestmark = pytest.mark.integration


def test_headline_only_links_are_not_reported_as_copies_of_each_other(
    ingest_paths: IngestPaths, tmp_path: Path
) -> None:
    lines = [
        {"id": "a", "url": "https://news.example/2022/06/15/ford-recalls-trucks/index.html"},
        {"id": "b", "url": "https://news.example/2022/06/16/anna-may-wong-coin/index.html"},
        {"id": "c", "text": "The quay reopened on Friday.", "title": "Quay"},
        {"id": "d", "text": "The quay reopened on Friday.", "title": "Quay again"},
    ]
    path = tmp_path / "links.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", "utf-8")
    report = ingest_paths(path)
    assert report.added == 4 and not report.rejected
    same = [n for n in report.notes if "same text" in n.message]
    assert [(n.where, n.message) for n in same] == [("d", "same text as c; both are kept")]
