"""`newsdesk chat`'s wiring that can be checked without starting a server (the browser test starts one)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ui.cli import main, streamlit_argv

pytestmark = pytest.mark.unit


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_streamlit_is_local_quiet_and_never_phones_out() -> None:
    argv = streamlit_argv(Path("app.py"), "127.0.0.1", 8599)
    assert argv[1:5] == ["-m", "streamlit", "run", "app.py"]
    assert _option(argv, "--server.address") == "127.0.0.1"
    assert _option(argv, "--server.port") == "8599"
    assert _option(argv, "--browser.gatherUsageStats") == "false"
    assert _option(argv, "--server.headless") == "true"
    assert _option(argv, "--browser.serverAddress") == "127.0.0.1"
    assert _option(argv, "--client.showErrorDetails") == "none"


def test_a_wildcard_host_still_skips_the_external_ip_lookup() -> None:
    argv = streamlit_argv(Path("app.py"), "0.0.0.0", 8599)
    assert _option(argv, "--server.address") == "0.0.0.0"
    assert _option(argv, "--browser.serverAddress") == "localhost"


def test_a_busy_port_is_a_clear_error_before_anything_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["chat", "--port", str(port)])
    assert code == 1
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "--port" in err
    assert not (tmp_path / "data").exists()  # nothing ingested for a page that cannot start
