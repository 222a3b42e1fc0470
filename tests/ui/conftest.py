"""Fixtures for the page: a store holding the bundled corpus (built once), fresh Streamlit caches per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import ui
from ingest.indexer import Indexer
from rag.pipeline import BUNDLED_CORPUS, build_pipeline
from rag.settings import Settings

APP = Path(ui.__file__).resolve().parent / "app.py"
SEED_QUESTION = "Which company is lobbying the White House to ease export controls?"


def ingest_into(data_dir: Path, *paths: Path) -> None:
    """Ingest ``paths`` into a store under ``data_dir`` with the real embedder."""
    pipeline = build_pipeline(Settings(data_dir=data_dir))
    report = Indexer(pipeline.settings, pipeline.embedder, pipeline.store, pipeline.lexical).run(list(paths))
    assert report.exit_code == 0, report.as_dict()


@pytest.fixture(scope="module")
def bundled_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the bundled corpus; tests only read it."""
    data_dir = tmp_path_factory.mktemp("bundled") / "data"
    ingest_into(data_dir, BUNDLED_CORPUS)
    _forget_chroma_clients()
    return data_dir


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches() -> Iterator[None]:
    # The page caches its pipeline per process; every test gets its own, on its own settings.
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def _forget_chroma_clients() -> None:
    from chromadb.api.shared_system_client import SharedSystemClient

    from rag import store

    store.forget_clients()
    SharedSystemClient.clear_system_cache()


def app_on(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The page, reading the store in ``data_dir``; run it with ``.run()``."""
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(data_dir))
    return AppTest.from_file(str(APP), default_timeout=30)


def ask(at: AppTest, question: str) -> AppTest:
    """Type ``question`` into the chat box and let the page answer it."""
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_text(at: AppTest) -> str:
    """Everything the page shows as text or HTML (markdown sources, notices, HTML blocks), joined."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "html", "text"):
        parts += [str(getattr(e, "value", "")) for e in at.get(kind)]
    return "\n".join(parts)
