"""The chat page: ask the articles, watch the answer stream in, check every quote against its article.

Run with `newsdesk chat`. All answering happens in `rag`; this page keeps the conversation (saved in the data
dir, reopened from ``?chat=<id>``), turns errors into calm messages (never a stack trace) and renders article
text only as text. A second page, Articles, lists and deletes what is indexed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import streamlit as st

from ingest.service import Newsdesk
from rag.errors import EmptyIndexError, InputError, NewsdeskError
from rag.numbering import number_by_article
from rag.pipeline import Status
from rag.records import REFUSAL, Answer
from rag.sentences import sentence_spans
from rag.streaming import AnswerStream
from rag.time_query import describe_searched
from ui import conversation, render, sources
from ui.chats import ChatStore, Turn
from ui.resources import chats as chat_store
from ui.resources import jobs, load_settings, service_for
from ui.sidebar import Asking, sidebar

log = logging.getLogger("newsdesk.ui")

__all__ = ["Turn", "main"]
AVATARS = {"user": ":material/person:", "assistant": ":material/newspaper:"}
SENTENCE_PAUSE = 0.04  # seconds between streamed sentences of an offline answer: reads as it arrives
STARTERS = 3


def render_answer(answer: Answer, turn: int, filters_on: bool = False, asked_on: str = "") -> None:
    """An answer (or refusal) with its warnings, its sources by article and the retrieval scores."""
    numbered = number_by_article(answer.text, answer.citations)
    if answer.refused:
        hint = " Some filters are on in the sidebar; widening them may help." if filters_on else ""
        st.info(f"{REFUSAL} Nothing in the retrieved passages answers this, so newsdesk won't guess.{hint}")
    else:
        text = render.annotate_answer(numbered.text, answer.checks)
        st.markdown(sources.link_markers(text, turn, {s.n for s in numbered.sources}))
    for warning in answer.warnings:
        st.warning(warning)
    if numbered.sources:
        st.markdown("**Sources**")
        for source in numbered.sources:
            st.html(sources.article_card(source, answer.passages, turn))
            if st.button("Read the article", key=f"read-{turn}-{source.n}", type="tertiary",
                         icon=":material/article:"):
                show_article(source.article_id, tuple(source.citations))
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
    footer = [f"{answer.mode} answer{took}"]
    if answer.standalone_question and answer.standalone_question != answer.question:
        footer.append(f"follow-up read as “{render.escape_markdown(answer.standalone_question)}”")  # what was searched
    if asked_on:
        footer.append(f"as of {asked_on}")
    if answer.searched:
        footer.append(describe_searched(answer.searched))
    st.caption(" · ".join(footer))


@st.dialog("Article", width="large")
def show_article(article_id: str, citations: tuple[Any, ...]) -> None:
    """The whole article, every quote the answer used highlighted; its web address when it has one."""
    settings = load_settings()
    article = service_for(settings).article(article_id)
    if article is None:
        st.info("This article is no longer in the store (it was deleted or re-ingested under another name).")
        return
    st.html(f"<h3>{render.esc(article.title or article.id)}</h3>"
            f'<div style="opacity:0.72">{render.esc(render.meta_line(article.source, article.published_at))}</div>')
    link = render.safe_url(article.url)
    if link:
        st.link_button("Open the original", link, icon=":material/open_in_new:")
    st.html(sources.article_html(article.text, citations))


def render_turn(turn: Turn, index: int, filters_on: bool, chats: ChatStore) -> None:
    with st.chat_message("user", avatar=AVATARS["user"]):
        st.markdown(render.escape_markdown(turn.question))
    with st.chat_message("assistant", avatar=AVATARS["assistant"]):
        if turn.answer is not None:
            render_answer(turn.answer, index, filters_on, turn.asked_on)
            feedback(chats, index)
        else:
            show_notice(turn.notice, turn.notice_kind)


def feedback(chats: ChatStore, index: int) -> None:
    """Thumbs up or down, and an optional comment, stored with the answer they rate."""
    chat_id = conversation.current_chat_id()
    if chat_id is None:
        return
    saved = chats.rating(chat_id, index)
    key = f"fb-{chat_id}-{index}"
    if key not in st.session_state and saved is not None:
        st.session_state[key] = saved.rating
    rating = st.feedback("thumbs", key=key)
    if rating is None:
        return
    if saved is None or saved.rating != rating:
        chats.rate(chat_id, index, rating, saved.comment if saved else "")
    with st.popover("Add a comment", icon=":material/comment:"):
        comment = st.text_area("What was right or wrong?", value=saved.comment if saved else "", key=f"{key}-text")
        if st.button("Save comment", key=f"{key}-save"):
            chats.rate(chat_id, index, rating, comment)
            st.toast("Thanks: saved with the answer.")


def show_notice(message: str, kind: str, where: Any = st) -> None:
    {"info": where.info, "warning": where.warning}.get(kind, where.error)(message)


def sentences(text: str) -> Iterator[str]:
    """An offline answer a sentence at a time (with the space after each), as a generated one streams."""
    spans = sentence_spans(text) or [(0, len(text))]
    for i, (start, _) in enumerate(spans):
        end = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        yield text[start:end] if i else text[:end]
        time.sleep(SENTENCE_PAUSE)


def ask(service: Newsdesk, question: str, history: list[tuple[str, str]], asking: Asking, turn: int) -> Turn:
    """Stream the answer into the page, then redraw it whole with its sources; errors become notices."""
    # A generator: nothing runs until write_stream pulls the first piece, inside the try below.
    stream = AnswerStream(
        service.stream(question, history, k=asking.k, filters=asking.filters, asked_on=asking.asked_on or None)
    )

    def pieces() -> Iterator[str]:
        for item in stream:
            if item != REFUSAL:  # a refusal is shown as a calm notice below, not as answer text
                if service.settings.generative:
                    yield render.escape_markdown(item)
                else:  # the offline answer comes whole; its markers are renumbered once it is complete
                    yield from (render.escape_markdown(s) for s in sentences(_marker_free(item)))

    slot = st.empty()
    try:
        with slot.container(), st.spinner("Searching the articles…", show_time=True):
            st.write_stream(pieces())
    except (InputError, EmptyIndexError) as exc:
        show_notice(str(exc), "info", slot)
        return Turn(question, notice=str(exc), notice_kind="info", asked_on=asking.asked_on)
    except NewsdeskError as exc:
        show_notice(str(exc), "error", slot)
        return Turn(question, notice=str(exc), notice_kind="error", asked_on=asking.asked_on)
    except Exception:
        log.exception("answering %r failed", question)
        message = "Something went wrong while answering; the details are in the terminal running `newsdesk chat`."
        show_notice(message, "error", slot)
        return Turn(question, notice=message, notice_kind="error", asked_on=asking.asked_on)
    answer = stream.final()
    with slot.container():
        render_answer(answer, turn, bool(asking.filters), asking.asked_on)
    return Turn(question, answer=answer, asked_on=asking.asked_on)


def _marker_free(text: str) -> str:
    # While streaming, passage numbers would flash and then change to article numbers: leave them out.
    from rag.citations import MARKER

    return MARKER.sub("", text).replace(" .", ".")


@st.cache_data(show_spinner=False, max_entries=8)
def starter_questions(data_key: str, generation: str, _service: Newsdesk) -> list[str]:
    """Questions about the newest articles' headlines, for the empty page."""
    newest = [a for a, _ in _service.catalog() if a.title and not a.title.endswith("…")]  # newest first
    return [f"What is the news on “{a.title.rstrip('.')}”?" for a in newest[:STARTERS]]


def empty_store_offer(service: Newsdesk) -> None:
    from rag.pipeline import BUNDLED_CORPUS

    st.info(
        "No articles are indexed yet. Load the bundled sample article to try newsdesk, add your own files in "
        "the sidebar, or run `newsdesk ingest PATH` in a terminal."
    )
    if st.button("Load the sample article", type="primary"):
        queue, worker = jobs(service.settings)
        queue.submit([BUNDLED_CORPUS], total=1)
        worker.wake()
        st.rerun()


def starters(service: Newsdesk) -> None:
    questions = starter_questions(str(service.settings.data_dir), service.generation(), service)
    if questions:
        st.caption("Try one of these, from the newest articles:")
        for i, question in enumerate(questions):
            if st.button(question, key=f"starter-{i}", icon=":material/lightbulb:"):
                st.session_state["pending_question"] = question


def chat_page() -> None:
    settings = load_settings()
    try:
        service = service_for(settings)
        status: Status = service.status()
    except NewsdeskError as exc:
        st.error(str(exc))
        st.stop()
        return
    chats = chat_store(settings)
    turns = conversation.turns(chats)
    asking = sidebar(service, status, chats)

    st.title(":material/newspaper: newsdesk")
    st.caption("Answers from your news articles. Every sentence is cited, and every citation quotes its article.")
    if not status.chunks:
        empty_store_offer(service)
    elif not turns:
        starters(service)
    for index, turn in enumerate(turns):
        render_turn(turn, index, bool(asking.filters), chats)

    question = st.chat_input("Ask about your articles…") or st.session_state.pop("pending_question", None)
    if question:
        history = [(t.question, t.answer.text) for t in turns if t.answer is not None]
        with st.chat_message("user", avatar=AVATARS["user"]):
            st.markdown(render.escape_markdown(question))
        with st.chat_message("assistant", avatar=AVATARS["assistant"]):
            turn = ask(service, question, history, asking, len(turns))
            index = conversation.record(chats, turn)
            if turn.answer is not None:
                feedback(chats, index)


def main() -> None:
    st.set_page_config(page_title="newsdesk", layout="centered")  # no page_icon: icons load from a CDN
    here = Path(__file__).resolve().parent
    page = st.navigation([
        # No page icons: Streamlit makes the open page's icon the tab's favicon, fetched from a font CDN.
        st.Page(chat_page, title="Chat", default=True),
        st.Page(here / "articles_page.py", title="Articles", url_path="articles"),
    ])
    page.run()


if __name__ == "__main__":  # Streamlit runs this file as __main__; importing it draws nothing
    main()
