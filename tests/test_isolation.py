"""The autouse fixture really isolates each test: its own data dir and cwd, no stray settings, no network."""

from __future__ import annotations

import os
import socket
import urllib.request
from pathlib import Path

import pytest

from rag.settings import Settings
from tests.conftest import NetworkBlockedError

pytestmark = pytest.mark.unit


def test_data_dir_cwd_and_environment_are_private(tmp_path: Path) -> None:
    assert Path.cwd() == tmp_path
    assert os.environ["NEWSDESK_DATA_DIR"] == str(tmp_path / "data")
    assert [k for k in os.environ if k.startswith(("NEWSDESK_", "OPENAI_"))] == ["NEWSDESK_DATA_DIR"]
    settings = Settings()
    assert settings.data_dir == tmp_path / "data"
    assert settings.openai_api_key is None and not settings.generative


@pytest.mark.parametrize(
    "connect",
    [
        lambda: socket.create_connection(("192.0.2.1", 443), timeout=1),
        lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(("198.51.100.7", 80)),
        lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect_ex(("2001:db8::1", 443, 0, 0)),
        lambda: urllib.request.urlopen("http://203.0.113.9/v1/models", timeout=1),
    ],
    ids=["create_connection", "connect", "connect_ex-ipv6", "urllib"],
)
def test_outside_connections_fail(connect: object) -> None:
    with pytest.raises(NetworkBlockedError, match="tests must stay offline"):
        connect()  # type: ignore[operator]


def test_loopback_connections_work() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5) as client:
            peer, _ = server.accept()
            with peer:
                client.sendall(b"ping")
                assert peer.recv(4) == b"ping"
