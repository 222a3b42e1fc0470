"""The page in a real Chromium: a story told by two outlets is one source card whose "also reported by" line
opens to the other outlet's article (the fixtures of tests/ingest/test_story_index.py)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eval.page_memory import CHROMIUM, CHROMIUM_ARGS
from tests.ingest.test_story_index import ARTICLES, QUESTION
from tests.ui.test_browser import ChatServer, _newsdesk, ask, chat_env, open_page, running_chat

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
]


@pytest.fixture
def story_server(tmp_path: Path) -> Iterator[ChatServer]:
    """`newsdesk chat` on a data dir that already holds the story fixtures (ingested by the CLI)."""
    env = chat_env(tmp_path)
    corpus = tmp_path / "articles.jsonl"
    corpus.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), "utf-8")
    ingested = subprocess.run([*_newsdesk(), "ingest", "--quiet", str(corpus)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
    assert ingested.returncode == 0 and "stories told by several articles: 1" in ingested.stdout, ingested.stderr
    with running_chat(tmp_path, env) as server:
        yield server


def test_a_story_is_one_source_whose_other_outlet_unfolds(story_server: ChatServer) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser: Any = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context, page, watch = open_page(browser, story_server)
        answer = ask(page, QUESTION)
        cards = answer.locator(".nd-source")
        cards.first.wait_for(timeout=30_000)  # the turn is drawn again once its answer is saved
        assert cards.count() == 1 and "Old river bridge to close for repairs" in cards.first.inner_text()
        also = cards.first.locator("details.nd-also")
        summary = also.locator("summary")
        assert summary.inner_text() == "also reported by Valley Herald (1)"
        other = also.get_by_text("Council shuts river bridge")
        assert not other.is_visible()  # folded until asked for
        summary.click()
        assert other.is_visible()
        assert also.locator("a").first.get_attribute("href") == "https://valleyherald.example/news/bridge-closure"
        assert watch.outbound == []
        context.close()
        browser.close()
