"""`newsdesk ingest URL` and `newsdesk watch` as a user runs them, against the news site on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.servers.news_site import Site, news_site
from tests.test_cli import newsdesk

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ALLOW = {"NEWSDESK_ALLOW_PRIVATE_URLS": "true", "NEWSDESK_FETCH_TIMEOUT": "1"}


@pytest.fixture
def site() -> Iterator[Site]:
    with news_site() as served:
        yield served


def test_ingest_a_feed_url_then_ask(site: Site) -> None:
    result = newsdesk("ingest", "--json", site.base + "/clean.xml", env=ALLOW)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] == 3
    answer = json.loads(newsdesk("ask", "When does the harbour ferry run at night?", "--as-of", "2022-06-16",
                                 "--json").stdout)
    assert answer["passages"][0]["url"] == site.base + "/a/2.html"


def test_a_private_address_is_refused_unless_allowed(site: Site) -> None:
    result = newsdesk("ingest", site.base + "/a/1.html")
    assert result.returncode == 1
    assert "127.0.0.1 is a loopback or private address (set NEWSDESK_ALLOW_PRIVATE_URLS=true to allow)" in result.stderr
    assert "Traceback" not in result.stderr


def test_watch_refreshes_and_checks_its_interval(site: Site) -> None:
    once = newsdesk("watch", "--count", "1", site.base + "/clean.xml", env=ALLOW)
    assert once.returncode == 0, once.stderr
    assert "added 3" in once.stdout and "UTC" in once.stdout
    bad = newsdesk("watch", "--every", "5s", site.base + "/clean.xml", env=ALLOW)
    assert bad.returncode == 1
    assert "shorter than a minute" in bad.stderr


def test_ctrl_c_stops_a_watch_cleanly_between_rounds(site: Site) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    script = Path(sys.executable).with_name("newsdesk")
    watch = subprocess.Popen([str(script), "watch", "--every", "1m", site.base + "/clean.xml"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, **ALLOW})
    state = Path(os.environ["NEWSDESK_DATA_DIR"]) / "feeds" / "state.json"  # written when a round has gone in
    deadline = time.monotonic() + 120
    while not state.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # the round prints its summary, then sleeps until the next one
    watch.send_signal(signal.SIGINT)
    out, err = watch.communicate(timeout=60)
    assert watch.returncode == 130, err
    assert "added 3" in out and "interrupted" in err and "Traceback" not in err
