"""The page's answer footer names the range a question's time words searched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ui.conftest import app_on, ask, ingest_into

pytestmark = pytest.mark.integration


def test_the_footer_shows_the_dates_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "The city council voted to close the old bridge for repairs, officials said."
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in [
        {"id": "june", "title": "Council closes bridge", "published_at": "2022-06-14", "text": text},
        {"id": "march", "title": "Council closes bridge", "published_at": "2022-03-02", "text": text + " "},
    ]) + "\n", "utf-8")
    ingest_into(tmp_path / "pagedata", feed)
    at = ask(app_on(tmp_path / "pagedata", monkeypatch).run(), "Why was the old bridge closed in March 2022?")
    captions = [c.value for m in at.chat_message if m.name == "assistant" for c in m.caption]
    assert any(c.endswith("· articles from 2022-03-01 to 2022-03-31") for c in captions), captions
