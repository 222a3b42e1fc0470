"""Ports for the real servers the tests start on 127.0.0.1 (and for addresses where nothing listens), and the
wait for such a server to come up."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], what: str, log: Callable[[], str],
                  timeout: float) -> None:
    """Return once ``url`` answers 200; raise ``RuntimeError`` with the server's log if ``process`` exits or
    ``timeout`` seconds pass first. ``what`` names the server in the message."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer {url} within {timeout:.0f} s:\n{log()}")
        time.sleep(0.2)
