"""Shared fixtures: a private data dir per test, no stray settings, no network, and a tiny real corpus.

Every test runs in its own ``tmp_path`` with ``NEWSDESK_DATA_DIR`` pointing inside it, without any
``NEWSDESK_*``/``OPENAI_*`` variables from the caller's shell, and with outbound connections to anything but
loopback failing loudly — so a test can neither read a developer's ``.env`` nor reach a model hub or an API.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.indexer import Indexer, IngestReport
from rag.embedder import MiniLMEmbedder
from rag.pipeline import Pipeline, build_pipeline
from rag.settings import Settings
from tests.samples import COUNCIL_MD, PORTS_TXT, STORM_HTML, WIRE_JSONL_LINES

LOOPBACK = {"127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"}


class NetworkBlockedError(RuntimeError):
    """Raised by the guard when code under test tries to leave the machine."""


def _is_loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX socket path
        return True
    host = address[0] if isinstance(address, tuple) and address else address
    if isinstance(host, bytes):
        host = host.decode()
    return isinstance(host, str) and (host in LOOPBACK or host.startswith("127."))


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Private data dir, clean environment, cwd in tmp_path (no .env), loopback-only network."""
    for name in list(os.environ):
        if name.startswith(("NEWSDESK_", "OPENAI_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_create = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_loopback(address):
            raise NetworkBlockedError(f"test tried to connect to {address!r}; tests must stay offline")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _is_loopback(address):
            raise NetworkBlockedError(f"test tried to connect to {address!r}; tests must stay offline")
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not _is_loopback(address):
            raise NetworkBlockedError(f"test tried to connect to {address!r}; tests must stay offline")
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    yield
    _release_chroma()


def _release_chroma() -> None:
    """Close this test's Chroma clients so hundreds of tests do not pile up open SQLite systems."""
    if "chromadb" not in sys.modules:
        return
    from chromadb.api.shared_system_client import SharedSystemClient

    from rag import store

    store.forget_clients()
    SharedSystemClient.clear_system_cache()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with the store under ``tmp_path/data``."""
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """The real ONNX MiniLM, loaded once per session."""
    return MiniLMEmbedder()


@pytest.fixture
def pipeline(settings: Settings, embedder: MiniLMEmbedder) -> Pipeline:
    """A real pipeline with embedded Chroma under tmp_path.

    Every pipeline a test builds shares the session's (real) embedder: loading the ONNX model per pipeline
    costs about a second on a busy 2-core machine and tests nothing new.
    """
    return build_pipeline(settings, embedder=embedder)


IngestPaths = Callable[..., IngestReport]


@pytest.fixture
def ingest_paths(pipeline: Pipeline) -> IngestPaths:
    """``ingest_paths(*paths, prune=False, rebuild=False, using=None)`` → the Indexer's report.

    Runs on the ``pipeline`` fixture unless another pipeline (say, one with other chunk settings) is given.
    """

    default = pipeline

    def run(*paths: Path, prune: bool = False, rebuild: bool = False, using: Pipeline | None = None) -> IngestReport:
        target = using or default
        indexer = Indexer(target.settings, target.embedder, target.store, target.lexical)
        return indexer.run([Path(p) for p in paths], prune=prune, rebuild=rebuild)

    return run


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A folder of six short articles: ``ports.txt``, ``council.md``, ``storm.html``, ``wire.jsonl`` (3)."""
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "ports.txt").write_text(PORTS_TXT, "utf-8")
    (root / "council.md").write_text(COUNCIL_MD, "utf-8")
    (root / "storm.html").write_text(STORM_HTML, "utf-8")
    (root / "wire.jsonl").write_text("\n".join(WIRE_JSONL_LINES) + "\n", "utf-8")
    return root


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI (NEWSDESK_TEST_REQUIRE_ALL=1) a browser or local-LLM test that skips itself is a failure:
    `.ci/run` installs Chromium and the local-llm extra, so a skip there means a broken install."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    required = item.get_closest_marker("browser") or item.get_closest_marker("local_llm")
    if report.skipped and required and os.environ.get("NEWSDESK_TEST_REQUIRE_ALL"):
        report.outcome = "failed"
        report.longrepr = f"required in CI but skipped: {report.longrepr}"


@pytest.fixture(scope="module")
def bundled_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the ingested bundled corpus, shared by a module's tests, which only read it."""
    from rag.pipeline import BUNDLED_CORPUS
    from rag.store import forget_clients

    data_dir = tmp_path_factory.mktemp("bundled") / "data"
    pipeline = build_pipeline(Settings(data_dir=data_dir))
    report = Indexer(pipeline.settings, pipeline.embedder, pipeline.store, pipeline.lexical).run([BUNDLED_CORPUS])
    assert report.exit_code == 0, report.as_dict()
    forget_clients()  # the tests open the store afresh
    return data_dir
