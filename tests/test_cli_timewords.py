"""`newsdesk ask` shows the range its time words searched (plain and --json); NEWSDESK_TIME_WORDS=false stops it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import newsdesk

pytestmark = pytest.mark.integration


def test_ask_prints_and_returns_the_range_searched(tmp_path: Path) -> None:
    text = "The city council voted to close the old bridge for repairs, officials said."
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in [
        {"id": "june", "title": "Council closes bridge", "published_at": "2022-06-14", "text": text},
        {"id": "march", "title": "Council closes bridge", "published_at": "2022-03-02", "text": text + " "},
    ]) + "\n", "utf-8")
    assert newsdesk("ingest", "--quiet", str(feed)).returncode == 0
    question = "Why was the old bridge closed in March?"
    plain = newsdesk("ask", question, "--as-of", "2022-06-16")
    assert plain.returncode == 0, plain.stderr
    assert "articles from 2022-03-01 to 2022-03-31" in plain.stdout
    as_json = json.loads(newsdesk("ask", question, "--as-of", "2022-06-16", "--json").stdout)
    assert as_json["searched"] == ["2022-03-01", "2022-03-31"]
    assert [p["article_id"] for p in as_json["passages"]] == ["march"]
    off = json.loads(newsdesk("ask", question, "--as-of", "2022-06-16", "--json",
                              env={"NEWSDESK_TIME_WORDS": "false"}).stdout)
    assert off["searched"] is None and off["passages"][0]["article_id"] == "june"
