"""The page's sidebar: chats, the question date, filters and k, what is indexed, uploads and ingest jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from ingest.service import Newsdesk
from rag.filters import Filters
from rag.pipeline import Status
from ui import conversation
from ui.chats import ChatStore
from ui.jobs_panel import jobs_panel, submit_uploads
from ui.resources import jobs

UPLOAD_TYPES = ["txt", "md", "html", "htm", "jsonl"]
MAX_K = 20
SHOWN_CHATS = 12


@dataclass(frozen=True)
class Asking:
    """How the next question is asked: passages, filters and its date (ISO; "" means today)."""

    k: int
    filters: Filters
    asked_on: str


@st.cache_data(show_spinner=False, max_entries=8)
def known_sources(data_key: str, generation: str, _service: Newsdesk) -> list[str]:
    """Every source name in the store; recomputed only when an ingest moves the store's generation.

    Read from the BM25 index, which holds each chunk's source in memory already: no pass over the store.
    """
    return _service.sources()


def sidebar(service: Newsdesk, status: Status, chats: ChatStore) -> Asking:
    """Draw the sidebar; returns how the next question should be asked."""
    with st.sidebar:
        st.button("New conversation", on_click=conversation.new_chat, icon=":material/edit_square:", width="stretch")
        chat_list(chats)

        st.subheader("Ask")
        today = date.today()
        as_of = st.date_input("As of", value=today, min_value=date(1900, 1, 1), format="YYYY-MM-DD",
                              help="Questions are answered as if asked on this day: that week's news comes first.")
        filters = Filters()
        if status.chunks:
            options = known_sources(str(service.settings.data_dir), service.generation(), service)
            sources = st.multiselect("Sources", options, placeholder="All sources")
            since = st.date_input("Published from", value=None, min_value=date(1900, 1, 1), format="YYYY-MM-DD")
            until = st.date_input("Published until", value=None, min_value=date(1900, 1, 1), format="YYYY-MM-DD")
            filters = Filters(
                sources=tuple(sources),
                since=since.isoformat() if isinstance(since, date) else "",
                until=until.isoformat() if isinstance(until, date) else "",
            )
        k = st.slider("Passages per answer (k)", 1, MAX_K, min(service.settings.k, MAX_K))

        st.subheader("Your articles")
        left, right = st.columns(2)
        left.metric("Articles", f"{status.articles:,}")
        right.metric("Chunks", f"{status.chunks:,}")
        st.caption(
            f"Embedder: {status.embedder}  \nLast ingest: {when(status.last_ingest)}  \n"
            f"Answers: {status.answer_mode}"
        )
        add_articles(service)
    asked_on = as_of.isoformat() if isinstance(as_of, date) and as_of != today else ""
    return Asking(k, filters, asked_on)


def chat_list(chats: ChatStore) -> None:
    """Saved chats, newest first; the open one can be renamed, exported or deleted."""
    saved = chats.chats(SHOWN_CHATS)
    if not saved:
        return
    st.caption("Chats")
    current = conversation.current_chat_id()
    for chat in saved:
        st.button(chat.title, key=f"chat-{chat.id}", on_click=conversation.open_chat, args=(chat.id,),
                  type="primary" if chat.id == current else "tertiary", width="stretch")
    if current and chats.get(current):
        conversation.chat_actions(chats, current)


def add_articles(service: Newsdesk) -> None:
    queue, worker = jobs(service.settings)
    st.subheader("Add articles")
    uploads = st.file_uploader(
        "Text, Markdown, HTML or JSONL (one article per line)", type=UPLOAD_TYPES, accept_multiple_files=True,
        key=f"upload-{st.session_state.get('upload_round', 0)}",
        help="Saved in the data folder under uploads/ and ingested by the server, as `newsdesk ingest` would: "
        "closing the tab does not stop it. A file with the same name replaces the earlier one.",
    )
    plural = "s" if uploads and len(uploads) != 1 else ""
    if uploads and st.button(f"Ingest {len(uploads)} file{plural}", type="primary") \
            and submit_uploads(queue, worker, uploads) is not None:
        st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
        st.rerun()
    jobs_panel(queue)


def when(iso: str) -> str:
    """'2022-06-15 08:30 UTC' from an ISO timestamp ('never' when empty)."""
    return f"{iso[:10]} {iso[11:16]} UTC" if len(iso) >= 16 else iso or "never"
