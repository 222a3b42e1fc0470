"""The page in a real Chromium: `newsdesk chat` as a user starts it, on an empty data dir, driven by Playwright.

Uses Debian's /usr/bin/chromium (never `playwright install`); skipped with the reason when it is missing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eval.page_memory import CHROMIUM, CHROMIUM_ARGS
from tests.servers.ports import free_port, wait_until_up
from tests.ui.conftest import SEED_QUESTION

SEED_QUOTE = "is actively lobbying the Trump White House to ease export controls"
ANSWER_TIMEOUT_MS = 90_000  # generous: the first answer loads the embedder on a shared 2-core machine

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
]


@dataclass
class ChatServer:
    url: str
    process: subprocess.Popen[bytes]
    started: float  # time.monotonic() when `newsdesk chat` was launched
    log: Path
    data_dir: Path


def _newsdesk() -> list[str]:
    script = Path(sys.executable).parent / "newsdesk"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ui"]


def chat_env(home: Path) -> dict[str, str]:
    """This process's environment without newsdesk's and OpenAI's settings, with a data dir under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "OPENAI_"))}
    env.update(NEWSDESK_DATA_DIR=str(home / "data"), HOME=str(home))  # HOME: Streamlit writes ~/.streamlit there
    return env


@contextmanager
def running_chat(home: Path, env: dict[str, str]) -> Iterator[ChatServer]:
    """`newsdesk chat --port FREE` run from ``home`` until the block ends, once its health check answers."""
    port = free_port()
    log = home / "chat.log"
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*_newsdesk(), "chat", "--port", str(port)], cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole at the end
        )
    server = ChatServer(f"http://127.0.0.1:{port}", process, started, log, home / "data")
    try:
        _wait_healthy(server, timeout=120)
        yield server
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    """`newsdesk chat --port FREE` on an empty data dir (so it ingests the bundled corpus first)."""
    home = tmp_path_factory.mktemp("chat")
    with running_chat(home, chat_env(home)) as server:
        yield server


def _wait_healthy(server: ChatServer, timeout: float) -> None:
    try:
        wait_until_up(f"{server.url}/_stcore/health", server.process, "`newsdesk chat`", server.log.read_text, timeout)
    except RuntimeError as exc:
        pytest.fail(str(exc))


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watch:
    """Requests that left 127.0.0.1, and any JavaScript dialogs (an executed alert() would show up here)."""

    def __init__(self, page: Any) -> None:
        self.outbound: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", self._request)
        page.on("dialog", self._dialog)

    def _request(self, request: Any) -> None:
        url = request.url
        if not url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")):
            self.outbound.append(url)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def open_page(browser: Any, server: ChatServer) -> tuple[Any, Any, Watch]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page)
    page.goto(server.url)
    page.get_by_placeholder("Ask about your articles").wait_for(timeout=ANSWER_TIMEOUT_MS)
    return context, page, watch


def ask(page: Any, question: str) -> Any:
    """Type ``question``, wait until its answer is complete (the turn's caption appears); that turn's locator."""
    turns = page.locator('[data-testid="stChatMessage"]')
    before = turns.count()
    box = page.get_by_placeholder("Ask about your articles")
    box.fill(question)
    box.press("Enter")
    answer = turns.nth(before + 1)
    answer.get_by_text("answer ·").wait_for(timeout=ANSWER_TIMEOUT_MS)  # "<mode> answer · <time>" ends a turn
    return answer


def test_seed_question_follow_up_and_separate_sessions(
    chat_server: ChatServer, browser: Any, tmp_path: Path, record_property: Any
) -> None:
    context, page, watch = open_page(browser, chat_server)
    first = ask(page, SEED_QUESTION)
    seconds = time.monotonic() - chat_server.started
    record_property("seconds_from_launch_to_first_answer", round(seconds, 1))
    print(f"\n`newsdesk chat` launch → first answer visible: {seconds:.1f}s")

    assert first.get_by_text("Anthropic, the San Francisco-based").first.is_visible()
    mark = first.locator("mark").first  # one highlighted quote per cited sentence; the answer's first leads
    assert SEED_QUOTE in mark.inner_text()
    assert mark.is_visible()
    quote_box = first.locator(".nd-quote").first
    assert quote_box.is_visible() and "The company dispatched a team" in quote_box.inner_text()  # the context

    # With main's fitted selector, "Who reported on it?" opens with other sentences and the one naming the
    # outlets comes fourth; in this page it was sometimes left out (2-3 sentences). This follow-up still leans
    # on "its" and is answered by the sentence that says who reported.
    second = ask(page, "Who reported on its Washington delegation?")
    assert "reported on" in second.locator('[data-testid="stMarkdownContainer"]').first.inner_text()
    assert page.locator('[data-testid="stChatMessage"]').count() == 4  # both exchanges stay on the page

    shot = tmp_path / "answer.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Another browser, same server, same moment: it must not see the first session's conversation.
    other_context, other, other_watch = open_page(browser, chat_server)
    assert other.locator('[data-testid="stChatMessage"]').count() == 0
    refusal = ask(other, "What is the capital of Australia?")
    assert refusal.locator('[data-testid="stAlertContentInfo"]').first.is_visible()
    assert other.locator('[data-testid="stChatMessage"]').count() == 2
    assert page.locator('[data-testid="stChatMessage"]').count() == 4
    assert page.locator('[data-testid="stChatMessage"]').get_by_text("capital of Australia").count() == 0

    assert watch.outbound == [] and other_watch.outbound == [], "the page must not call out of the machine"
    other_context.close()
    context.close()


def test_an_uploaded_article_with_html_and_script_is_shown_as_text(
    chat_server: ChatServer, browser: Any, tmp_path: Path
) -> None:
    article = {
        "id": "hostile-browser",
        "title": "Quay <img src=x onerror=alert('title')> reopens",
        "url": "javascript:alert('url')",
        "source": "Example Wire",
        "text": "The Porthleven quay reopened on Friday <script>alert('xss')</script> after repairs costing "
        "<img src=x onerror=alert('img')> four million pounds.\n\nBoats returned the same evening.",
    }
    upload = tmp_path / "hostile.jsonl"
    upload.write_text(json.dumps(article) + "\n", "utf-8")
    context, page, watch = open_page(browser, chat_server)

    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
    page.get_by_role("button", name="Ingest 1 file").click()
    page.get_by_text("Added 1").wait_for(timeout=ANSWER_TIMEOUT_MS)
    answer = ask(page, "When did the Porthleven quay reopen?")

    assert answer.get_by_text("<script>alert('xss')</script>").first.is_visible()
    assert answer.get_by_text("<img src=x onerror=alert('img')>").first.is_visible()
    assert page.locator("[onerror]").count() == 0
    assert page.locator('[data-testid="stChatMessage"] script').count() == 0
    assert page.locator('a[href^="javascript"]').count() == 0
    page.wait_for_timeout(500)  # give an injected handler every chance to fire before checking
    assert watch.dialogs == []
    assert watch.outbound == []
    context.close()


def newsdesk_json(server: ChatServer, *args: str) -> Any:
    """`newsdesk ARGS --json` on the server's data dir, decoded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "OPENAI_"))}
    env["NEWSDESK_DATA_DIR"] = str(server.data_dir)
    done = subprocess.run([*_newsdesk(), *args, "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_chat_survives_a_reload_and_its_markers_jump_to_one_card_per_article(
    chat_server: ChatServer, browser: Any
) -> None:
    context, page, _ = open_page(browser, chat_server)
    answer = ask(page, SEED_QUESTION)
    cards = answer.locator(".nd-source")
    cards.first.wait_for(timeout=ANSWER_TIMEOUT_MS)  # HTML blocks may land a moment after the caption
    assert cards.count() == 1  # three passages of one article: one source
    assert cards.first.locator("mark").count() >= 2  # every quoted sentence highlighted in that one card
    links = answer.locator('a[href="#nd-src-0-1"]')
    assert links.count() >= 2 and answer.locator('a[href^="#nd-src-0-2"]').count() == 0
    page.set_viewport_size({"width": 1280, "height": 320})
    page.wait_for_timeout(600)  # the chat view re-settles (sticks to its end) after a resize
    links.first.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(600)
    top = cards.first.evaluate("e => e.getBoundingClientRect().top")
    assert top > 320, f"the card should start out of view for this test to mean anything (top {top}px)"
    links.first.click()
    page.wait_for_function("location.hash === '#nd-src-0-1'")
    page.wait_for_timeout(300)
    top = cards.first.evaluate("e => e.getBoundingClientRect().top")
    assert 0 <= top < 160, f"[1] should scroll its card into view; the card is at {top}px"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_function("location.search.includes('chat=')")  # set once the answer is saved

    page.reload()
    again = page.locator('[data-testid="stChatMessage"]')
    again.nth(1).get_by_text("answer ·").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert again.count() == 2
    assert SEED_QUESTION in again.nth(0).inner_text()
    again.nth(1).locator(".nd-source").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert again.nth(1).locator(".nd-source").count() == 1
    context.close()


def _wire(n: int) -> str:
    """``n`` hand-made wire articles as JSONL, each long enough for a few chunks, so ingest takes a while."""
    towns = ["Alderney", "Brixham", "Cromer", "Dunbar", "Eyemouth", "Fowey", "Girvan", "Hayle", "Ilfracombe", "Looe"]
    lines = []
    for i in range(n):
        town = towns[i % len(towns)]
        paragraphs = [
            f"The harbour board of {town} met on day {i} to discuss dredging berth {i} and the lifeboat station.",
            f"Councillors in {town} approved {i + 3} new moorings after a long debate about fees and winter storms.",
            f"Fishermen said catches of crab and lobster near {town} had risen for the {i % 7 + 2}th season running.",
        ]
        text = "\n\n".join(" ".join([p] * 4) for p in paragraphs)
        lines.append(json.dumps({"id": f"wire-{i:03d}", "title": f"{town} harbour report {i}", "text": text,
                                 "source": "Coast Wire", "published_at": f"2022-06-{i % 28 + 1:02d}"}))
    return "\n".join(lines) + "\n"


def test_an_upload_finishes_after_the_tab_is_reloaded_and_closed(
    chat_server: ChatServer, browser: Any, tmp_path: Path
) -> None:
    from ingest.jobs import JobQueue

    count = 120
    before = newsdesk_json(chat_server, "status")["articles"]
    upload = tmp_path / "coast.jsonl"
    upload.write_text(_wire(count), "utf-8")
    context, page, _ = open_page(browser, chat_server)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
    page.get_by_role("button", name="Ingest 1 file").click()
    page.get_by_text("Ingest coast.jsonl").wait_for(timeout=ANSWER_TIMEOUT_MS)

    page.reload()  # mid-ingest: the job belongs to the server, not to this tab
    page.get_by_placeholder("Ask about your articles").wait_for(timeout=ANSWER_TIMEOUT_MS)
    [job] = [j for j in JobQueue(chat_server.data_dir).jobs() if j.paths and j.paths[0].endswith("coast.jsonl")]
    assert job.active, "the ingest finished before the reload: make the upload bigger so the test means something"
    page.get_by_text(f"of ~{count} articles").wait_for(timeout=ANSWER_TIMEOUT_MS)  # the reloaded tab shows it
    context.close()  # and nobody is watching any more

    deadline = time.monotonic() + 300
    while (status := newsdesk_json(chat_server, "status"))["articles"] < before + count:
        assert time.monotonic() < deadline, status
        time.sleep(1)
    assert status["articles"] == before + count
    finished = JobQueue(chat_server.data_dir).jobs()[0]
    assert finished.id == job.id and finished.state == "done" and finished.report["added"] == count

    context, page, _ = open_page(browser, chat_server)
    page.get_by_text(f"Added {count} · updated 0").wait_for(timeout=ANSWER_TIMEOUT_MS)
    context.close()


def test_the_article_manager_deletes_an_article_with_its_chunks(chat_server: ChatServer, browser: Any) -> None:
    articles = {a["id"]: a for a in newsdesk_json(chat_server, "articles")}
    assert "wire-007" in articles
    status = newsdesk_json(chat_server, "status")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{chat_server.url}/articles")
    page.get_by_text(f"of {len(articles):,} articles").wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.get_by_placeholder("Search titles").fill("harbour report 7")
    page.get_by_placeholder("Search titles").press("Enter")
    page.get_by_text(f"11 of {len(articles):,} articles").wait_for(timeout=ANSWER_TIMEOUT_MS)  # report 7 and 70-79
    picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Articles to delete")
    picker.locator("input").fill("wire-007")
    picker.locator("input").press("Enter")
    page.get_by_text("Yes, delete 1 article").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_text(f"of {len(articles) - 1:,} articles").wait_for(timeout=ANSWER_TIMEOUT_MS)
    context.close()

    after = {a["id"] for a in newsdesk_json(chat_server, "articles")}
    assert after == set(articles) - {"wire-007"}
    now = newsdesk_json(chat_server, "status")
    assert now["chunks"] == status["chunks"] - articles["wire-007"]["chunks"] > 0


def test_ten_sessions_ask_at_once_while_a_job_runs(chat_server: ChatServer, browser: Any, tmp_path: Path) -> None:
    from ingest.jobs import JobQueue

    upload = tmp_path / "more-coast.jsonl"
    upload.write_text(_wire(120).replace('"id": "wire-', '"id": "more-'), "utf-8")
    towns = ["Alderney", "Brixham", "Cromer", "Dunbar", "Eyemouth", "Fowey", "Girvan", "Hayle", "Ilfracombe", "Looe"]
    sessions = [open_page(browser, chat_server) for _ in towns]
    queue = JobQueue(chat_server.data_dir)
    job = queue.submit([upload], total=120)  # as the upload button does; the server's worker picks it up
    questions = [f"How many new moorings did councillors in {town} approve?" for town in towns]
    for (_, page, _), question in zip(sessions, questions, strict=True):
        box = page.get_by_placeholder("Ask about your articles")
        box.fill(question)
        box.press("Enter")  # all ten are in flight before any answer is awaited
    running = queue.get(job.id)
    assert running is not None and running.active, "the job should still run while the questions are answered"
    for (context, page, watch), question in zip(sessions, questions, strict=True):
        messages = page.locator('[data-testid="stChatMessage"]')
        messages.nth(1).get_by_text("answer ·").wait_for(timeout=ANSWER_TIMEOUT_MS)
        assert messages.count() == 2 and question in messages.nth(0).inner_text()
        others = [q for q in questions if q != question]
        assert not any(messages.get_by_text(q).count() for q in others), "a session saw another's question"
        assert page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count() == 0
        assert watch.outbound == []
        context.close()
    deadline = time.monotonic() + 300
    while (current := queue.get(job.id)) is not None and current.active:
        assert time.monotonic() < deadline
        time.sleep(1)
    assert current is not None and current.state == "done" and current.report["added"] == 120


@pytest.mark.parametrize(("scheme", "dark"), [("light", False), ("dark", True)])
def test_the_page_follows_the_browsers_colour_scheme_and_states_the_real_upload_limit(
    chat_server: ChatServer, browser: Any, scheme: str, dark: bool
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.goto(chat_server.url)
    page.get_by_placeholder("Ask about your articles").wait_for(timeout=ANSWER_TIMEOUT_MS)
    background = page.evaluate("getComputedStyle(document.querySelector('.stApp')).backgroundColor")
    red, green, blue = (int(x) for x in background[background.index("(") + 1 : background.index(")")].split(",")[:3])
    assert (red + green + blue < 150) == dark, background
    assert "5MB per file" in page.locator('[data-testid="stFileUploaderDropzone"]').inner_text()
    context.close()
