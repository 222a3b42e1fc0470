"""The chat page: ask the articles, watch the answer stream in, check every quote against its article.

Run with `newsdesk chat`. All answering happens in `rag`; this page keeps the conversation per browser
session, turns errors into calm messages (never a stack trace) and renders article text only as text.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ingest.service import Newsdesk, build_service
from rag.errors import EmptyIndexError, InputError, NewsdeskError
from rag.filters import Filters
from rag.pipeline import Status
from rag.records import REFUSAL, Answer
from rag.settings import Settings
from rag.settings import load_settings as settings_from_env
from rag.streaming import AnswerStream
from rag.time_query import describe_searched
from ui import render
from ui.sidebar import sidebar

log = logging.getLogger("newsdesk.ui")


@dataclass(frozen=True)
class Turn:
    """One exchange: the question and either the answer or the message that stood in for it."""

    question: str
    answer: Answer | None = None
    notice: str = ""
    notice_kind: str = "info"  # info | warning | error


def load_settings() -> Settings:
    """Settings from the environment and .env; a bad value stops the page with what to fix."""
    try:
        return settings_from_env()
    except NewsdeskError as exc:
        st.error(f"{exc} Then reload the page.")
        st.stop()
        raise  # st.stop() ends the script run; this line only tells type checkers so


@st.cache_resource(show_spinner="Loading the embedding model and the article store…")
def _service(key: str, _settings: Settings) -> Newsdesk:
    # Keyed by the full settings (secret included, hashed) so a changed environment gets its own service.
    return build_service(_settings)


def settings_key(settings: Settings) -> str:
    secret = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    return hashlib.sha256((settings.model_dump_json() + secret).encode()).hexdigest()


def render_answer(answer: Answer, filters_on: bool = False) -> None:
    """An answer (or refusal) with its warnings, sources and retrieval scores."""
    if answer.refused:
        hint = " Some filters are on in the sidebar; widening them may help." if filters_on else ""
        st.info(f"{REFUSAL} Nothing in the retrieved passages answers this, so newsdesk won't guess.{hint}")
    else:
        st.markdown(render.annotate_answer(answer.text, answer.checks))
    for warning in answer.warnings:
        st.warning(warning)
    if answer.citations:
        st.markdown("**Sources**")
        for citation in answer.citations:
            st.html(render.source_card(citation, render.citation_window(citation, answer.passages)))
    elif answer.refused and answer.passages:
        st.markdown("**Closest passages**")
        for n, passage in enumerate(answer.passages[:3], start=1):
            st.html(render.passage_card(n, passage))
    if answer.passages:
        with st.expander("Why these passages"):
            st.caption(
                "Hybrid retrieval: dense = cosine similarity of MiniLM embeddings, BM25 = keyword score, "
                "fused = reciprocal-rank fusion of the two rankings (higher is better)."
            )
            for n, passage in enumerate(answer.passages, start=1):
                st.html(render.passage_card(n, passage))
    total = answer.timings_ms.get("total")
    took = "" if total is None else f" · {total:.0f} ms" if total < 1000 else f" · {total / 1000:.1f} s"
    st.caption(f"{answer.mode} answer{took}" + (f" · {describe_searched(answer.searched)}" if answer.searched else ""))


def render_turn(turn: Turn, filters_on: bool = False) -> None:
    with st.chat_message("user"):
        st.markdown(render.escape_markdown(turn.question))
    with st.chat_message("assistant"):
        if turn.answer is not None:
            render_answer(turn.answer, filters_on)
        else:
            show_notice(turn.notice, turn.notice_kind)


def show_notice(message: str, kind: str, where: Any = st) -> None:
    {"info": where.info, "warning": where.warning}.get(kind, where.error)(message)


def ask(service: Newsdesk, question: str, history: list[tuple[str, str]], k: int, filters: Filters) -> Turn:
    """Stream the answer into the page, then redraw it whole with its sources; errors become notices."""
    stream = AnswerStream(service.stream(question, history, k=k, filters=filters))

    def pieces() -> Any:
        for item in stream:
            if item != REFUSAL:  # a refusal is shown as a calm notice below, not as answer text
                yield render.escape_markdown(item)

    slot = st.empty()
    try:
        with slot.container():
            st.write_stream(pieces())
    except (InputError, EmptyIndexError) as exc:
        show_notice(str(exc), "info", slot)
        return Turn(question, notice=str(exc), notice_kind="info")
    except NewsdeskError as exc:
        show_notice(str(exc), "error", slot)
        return Turn(question, notice=str(exc), notice_kind="error")
    except Exception:
        log.exception("answering %r failed", question)
        message = "Something went wrong while answering; the details are in the terminal running `newsdesk chat`."
        show_notice(message, "error", slot)
        return Turn(question, notice=message, notice_kind="error")
    answer = stream.final()
    with slot.container():
        render_answer(answer, bool(filters))
    return Turn(question, answer=answer)


def empty_store_offer(service: Newsdesk) -> None:
    from rag.pipeline import BUNDLED_CORPUS
    from ui.sidebar import run_ingest

    st.info(
        "No articles are indexed yet. Load the bundled sample article to try newsdesk, add your own files in "
        "the sidebar, or run `newsdesk ingest PATH` in a terminal."
    )
    if st.button("Load the sample article", type="primary"):
        run_ingest(service, [BUNDLED_CORPUS])
        st.rerun()


def main() -> None:
    st.set_page_config(page_title="newsdesk", layout="centered")  # no page_icon: icons load from a CDN
    settings = load_settings()
    try:
        service = _service(settings_key(settings), settings)
        status: Status = service.status()
    except NewsdeskError as exc:
        st.error(str(exc))
        st.stop()
        return
    turns: list[Turn] = st.session_state.setdefault("turns", [])
    k, filters = sidebar(service, status)

    st.title(":material/newspaper: newsdesk")
    st.caption("Answers from your news articles. Every sentence is cited, and every citation quotes its article.")
    if not status.chunks:
        empty_store_offer(service)
    for turn in turns:
        render_turn(turn, bool(filters))

    question = st.chat_input("Ask about your articles…")
    if question:
        history = [(t.question, t.answer.text) for t in turns if t.answer is not None]
        with st.chat_message("user"):
            st.markdown(render.escape_markdown(question))
        with st.chat_message("assistant"):
            turns.append(ask(service, question, history, k, filters))


main()
