"""What the page's sessions share, built once per server process (``st.cache_resource``).

The service (``ingest.service.Newsdesk``: embedder, store, BM25), the ingest job queue with the worker
thread that drains it, and the saved-chat store. The worker belongs to the server, not to a browser session,
so an ingest finishes however many tabs are closed or reloaded while it runs.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from ingest.jobs import JobQueue, Worker, service_runner
from ingest.service import Newsdesk, build_service
from rag.errors import NewsdeskError
from rag.settings import Settings
from rag.settings import load_settings as settings_from_env
from ui.chats import ChatStore


def load_settings() -> Settings:
    """Settings from the environment and .env; a bad value stops the page with what to fix."""
    try:
        return settings_from_env()
    except NewsdeskError as exc:
        st.error(f"{exc} Then reload the page.")
        st.stop()
        raise  # st.stop() ends the script run; this line only tells type checkers so


def settings_key(settings: Settings) -> str:
    secret = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    return hashlib.sha256((settings.model_dump_json() + secret).encode()).hexdigest()


@st.cache_resource(show_spinner="Loading the embedding model and the article store…")
def _service(key: str, _settings: Settings) -> Newsdesk:
    # Keyed by the full settings (secret included, hashed) so a changed environment gets its own service.
    return build_service(_settings)


def service_for(settings: Settings) -> Newsdesk:
    """The service every session of this server shares for ``settings``."""
    return _service(settings_key(settings), settings)


def _stop_worker(entry: tuple[JobQueue, Worker]) -> None:
    entry[1].stop()  # when the cache drops it (settings changed, tests): finish the job in hand, free the lock


@st.cache_resource(show_spinner=False, on_release=_stop_worker)
def _jobs(key: str, _service: Newsdesk) -> tuple[JobQueue, Worker]:
    queue = JobQueue(_service.settings.data_dir)
    worker = Worker(queue, service_runner(_service))
    worker.start()  # resumes (or reports stopped) a job a killed server left running
    return queue, worker


def jobs(settings: Settings) -> tuple[JobQueue, Worker]:
    """The job queue of the data dir and the server's worker draining it (started on first use)."""
    return _jobs(settings_key(settings), service_for(settings))


@st.cache_resource(show_spinner=False)
def _chats(data_dir: str) -> ChatStore:
    from pathlib import Path

    return ChatStore(Path(data_dir))


def chats(settings: Settings) -> ChatStore:
    return _chats(str(settings.data_dir))
