"""The API's /docs page in real Chromium: it renders every route, and everything it loads comes from the server
itself (the Swagger UI files ship in a package; no CDN), so the docs work offline."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from eval.page_memory import CHROMIUM, CHROMIUM_ARGS
from tests.servers.api_server import running_api

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
]


def test_the_docs_page_renders_every_route_from_the_server_alone(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with running_api(tmp_path / "data", tmp_path / "home", NEWSDESK_API_KEY="docs-key") as server, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            loaded: list[str] = []
            page.on("request", lambda request: loaded.append(request.url))
            page.goto(f"{server.url}/docs")
            page.get_by_text("/v1/chat/completions").first.wait_for(timeout=30_000)
            shown = page.inner_text("body")
        finally:
            browser.close()
    for route in ("/healthz", "/v1/models", "/v1/ask", "/v1/articles/{article_id}", "/v1/jobs/{job_id}"):
        assert route in shown
    assert "Authorize" in shown  # the Bearer key can be entered to try the routes
    assert loaded and {urlparse(u).netloc for u in loaded if u.startswith("http")} == {urlparse(server.url).netloc}
