"""The chat page's memory on a real store: `newsdesk chat` driven by Chromium through three questions.

    python -m eval.page_memory --store .newsdesk/bench/full [--chats 20]

Prints each answer's first words and the resident memory (VmRSS) of the `newsdesk chat` process group once the
third answer is on the page. Needs Debian's ``chromium`` and the ``playwright`` package (``make install``).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")  # Debian's; never `playwright install`, which downloads
CHROMIUM_ARGS = [  # headless in a container, and no background requests of its own
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
QUESTIONS = (
    "Which automaker recalled 2.9 million vehicles?",
    "Which national park was hit by flooding?",
    "Who won the Stanley Cup?",
)
TIMEOUT_MS = 180_000


def group_rss_mb(group: int) -> float:
    """Resident memory of every process in process group ``group``, in MB."""
    total_kb = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) != group:
                continue
            with open(f"/proc/{entry}/status", encoding="utf-8") as status:
                total_kb += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
        except OSError:  # the process ended while we looked
            continue
    return total_kb / 1024


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.page_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="data dir of an ingested store")
    parser.add_argument("--chats", type=int, default=0,
                        help="first save this many chats through the page (one question each)")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        parser.error(f"needs {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "OPENAI_"))}
    env["NEWSDESK_DATA_DIR"] = str(args.store.resolve())
    newsdesk = Path(sys.executable).parent / "newsdesk"
    chat = subprocess.Popen(
        [str(newsdesk), "chat", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}")
            box = page.get_by_placeholder("Ask about your articles")
            box.wait_for(timeout=TIMEOUT_MS)
            turns = page.locator('[data-testid="stChatMessage"]')
            for i in range(args.chats):
                box.fill(f"{QUESTIONS[i % len(QUESTIONS)]} ({i + 1})")
                box.press("Enter")
                turns.nth(1).get_by_text("answer ·").wait_for(timeout=TIMEOUT_MS)
                page.get_by_role("button", name="New conversation").click()
                page.wait_for_function("!location.search.includes('chat=')")
                turns.first.wait_for(state="detached", timeout=TIMEOUT_MS)
            if args.chats:
                print(f"saved {args.chats} chats; page process RSS: {group_rss_mb(chat.pid):.0f} MB")
            for question in QUESTIONS:
                before = turns.count()
                box.fill(question)
                box.press("Enter")
                answer = turns.nth(before + 1)
                answer.get_by_text("answer ·").wait_for(timeout=TIMEOUT_MS)
                print(f"{question} → {answer.inner_text()[:100]!r}")
            print(f"page process RSS after {len(QUESTIONS)} answers: {group_rss_mb(chat.pid):.0f} MB")
            browser.close()
    finally:
        os.killpg(chat.pid, signal.SIGTERM)
        chat.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
