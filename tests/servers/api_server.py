"""A real `newsdesk serve` (uvicorn) in a child process on 127.0.0.1, for tests that talk HTTP to it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers.ports import free_port, wait_until_up


@dataclass(frozen=True)
class ApiServer:
    """A running server: its base URL (``…/v1`` is what OpenAI clients want) and its log file."""

    url: str
    log: Path
    pid: int = 0  # for tests that kill it mid-job

    @property
    def v1(self) -> str:
        return f"{self.url}/v1"

    def log_text(self) -> str:
        return self.log.read_text("utf-8", errors="replace")


@contextmanager
def running_api(data_dir: Path, home: Path, **env: str) -> Iterator[ApiServer]:
    """`newsdesk serve` on a free port over ``data_dir``, with only ``env`` as NEWSDESK_*/OPENAI_* settings;
    waits until /healthz answers and stops the server afterwards."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "OPENAI_"))}
    clean.update({"NEWSDESK_DATA_DIR": str(data_dir), **env})
    home.mkdir(parents=True, exist_ok=True)
    log = home / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ui", "serve", "--port", str(port)],
            cwd=home, env=clean, stdout=out, stderr=subprocess.STDOUT,
        )
    server = ApiServer(f"http://127.0.0.1:{port}", log, process.pid)
    try:
        _wait_healthy(server, process)
        yield server
    finally:
        _stop(process)


def _wait_healthy(server: ApiServer, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    wait_until_up(f"{server.url}/healthz", process, "newsdesk serve", server.log_text, timeout)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
