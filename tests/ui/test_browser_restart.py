"""The server killed in the middle of an ingest job, then started again: the job resumes, the chat is still there.

Real `newsdesk chat` processes (killed with SIGKILL, as a crash or an OOM kill would) and a real Chromium.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from ingest.jobs import JobQueue
from tests.servers.ports import free_port
from tests.ui.conftest import SEED_QUESTION
from tests.ui.test_browser import (
    ANSWER_TIMEOUT_MS,
    ChatServer,
    _newsdesk,
    _stop,
    _wait_healthy,
    _wire,
    ask,
    browser,
    newsdesk_json,
    open_page,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]
__all__ = ["browser"]  # the Chromium fixture, shared


def _start(home: Path, port: int) -> ChatServer:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "OPENAI_"))}
    env.update(NEWSDESK_DATA_DIR=str(home / "data"), HOME=str(home))
    log = home / f"chat-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*_newsdesk(), "chat", "--port", str(port)], cwd=home, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = ChatServer(f"http://127.0.0.1:{port}", process, time.monotonic(), log, home / "data")
    _wait_healthy(server, timeout=120)
    return server


def test_a_job_the_server_was_killed_in_resumes_on_restart_and_the_chat_is_kept(
    browser: Any, tmp_path: Path
) -> None:
    home, port, count = tmp_path / "home", free_port(), 120
    home.mkdir()
    server = _start(home, port)
    try:
        context, page, _ = open_page(browser, server)
        ask(page, SEED_QUESTION)
        page.wait_for_function("location.search.includes('chat=')")  # set once the answer is saved
        chat_url = page.url
        upload = tmp_path / "coast.jsonl"
        upload.write_text(_wire(count), "utf-8")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
        page.get_by_role("button", name="Ingest 1 file").click()
        page.get_by_text(f"of ~{count} articles").wait_for(timeout=ANSWER_TIMEOUT_MS)  # running
        context.close()
    finally:
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)  # no clean shutdown: the worker dies mid-job
            server.process.wait(timeout=30)
    [job] = JobQueue(server.data_dir).jobs(1)
    assert job.state == "running" and job.report == {}, "the kill must land mid-job for this test to mean anything"
    stored = newsdesk_json(server, "status")["articles"]
    assert stored < 1 + count

    server = _start(home, port)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(chat_url)  # the chat it had open, after the restart
        page.locator('[data-testid="stChatMessage"]').nth(1).get_by_text("answer ·").wait_for(timeout=ANSWER_TIMEOUT_MS)
        assert SEED_QUESTION in page.locator('[data-testid="stChatMessage"]').nth(0).inner_text()
        page.get_by_text("resumed: the server stopped during this job").wait_for(timeout=ANSWER_TIMEOUT_MS)
        page.get_by_text(f"Added {count - (stored - 1)} · updated 0 · unchanged {stored - 1}").wait_for(timeout=300_000)
        context.close()
        assert newsdesk_json(server, "status")["articles"] == 1 + count
        [done] = JobQueue(server.data_dir).jobs(1)
        assert done.id == job.id and done.state == "done" and done.attempts == 2
    finally:
        _stop(server.process)
