"""The page's sidebar: what is indexed, how answers are made, filters, k, a new conversation, uploads."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from ingest.service import Newsdesk
from rag.errors import NewsdeskError
from rag.filters import Filters
from rag.pipeline import Status

UPLOAD_TYPES = ["txt", "md", "html", "htm", "jsonl"]
MAX_K = 20


@st.cache_data(show_spinner=False, max_entries=8)
def known_sources(data_key: str, generation: str, _service: Newsdesk) -> list[str]:
    """Every source name in the store; recomputed only when an ingest moves the store's generation.

    Read from the BM25 index, which holds each chunk's source in memory already: no pass over the store.
    """
    return _service.sources()


def sidebar(service: Newsdesk, status: Status) -> tuple[int, Filters]:
    """Draw the sidebar; returns the k and filters the next question should use."""
    with st.sidebar:
        st.subheader("Your articles")
        left, right = st.columns(2)
        left.metric("Articles", f"{status.articles:,}")
        right.metric("Chunks", f"{status.chunks:,}")
        st.caption(
            f"Embedder: {status.embedder}  \nLast ingest: {when(status.last_ingest)}  \n"
            f"Answers: {status.answer_mode}"
        )
        report = st.session_state.pop("ingest_report", None)
        if report:
            show_report(*report)

        st.subheader("Search")
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
        st.button("New conversation", on_click=new_conversation, width="stretch")

        st.subheader("Add articles")
        uploads = st.file_uploader(
            "Text, Markdown, HTML or JSONL (one article per line)", type=UPLOAD_TYPES, accept_multiple_files=True,
            key=f"upload-{st.session_state.get('upload_round', 0)}",
            help="Saved in the data folder under uploads/ and ingested as `newsdesk ingest` would; "
            "a file with the same name replaces the earlier one.",
        )
        if uploads and st.button(f"Ingest {len(uploads)} file{'s' if len(uploads) != 1 else ''}", type="primary"):
            folder = service.settings.data_dir / "uploads"
            paths = []
            try:
                folder.mkdir(parents=True, exist_ok=True)
                for upload in uploads:
                    path = folder / Path(upload.name).name  # the browser's file name, never a path
                    path.write_bytes(upload.getvalue())
                    paths.append(path)
            except OSError as exc:
                st.error(f"Cannot save uploads in {folder}: {exc.strerror or exc}. Check NEWSDESK_DATA_DIR.")
            else:
                run_ingest(service, paths)
                st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
                st.rerun()
    return k, filters


def when(iso: str) -> str:
    """'2022-06-15 08:30 UTC' from an ISO timestamp ('never' when empty)."""
    return f"{iso[:10]} {iso[11:16]} UTC" if len(iso) >= 16 else iso or "never"


def new_conversation() -> None:
    """Forget this browser session's questions and answers (other sessions keep theirs)."""
    st.session_state.pop("turns", None)


def run_ingest(service: Newsdesk, paths: list[Path]) -> None:
    """Ingest ``paths`` with a progress bar; the outcome is shown in the sidebar after the rerun."""
    from ingest.sources import estimate_articles

    total = max(1, estimate_articles(paths))
    bar = st.progress(0.0, text="Reading articles…")

    def progress(articles: int, chunks: int) -> None:
        text = f"{articles:,} of ~{total:,} articles · {chunks:,} chunks embedded"
        bar.progress(min(1.0, articles / total), text=text)

    try:
        report = service.ingest(paths, progress=progress)
    except NewsdeskError as exc:
        st.session_state["ingest_report"] = ("error", str(exc), [])
        return
    finally:
        bar.empty()
    summary = (
        f"Added {report.added} · updated {report.updated} · unchanged {report.unchanged} · "
        f"rejected {len(report.rejected)} — {report.chunks_embedded} chunks embedded in {report.seconds:.1f}s"
    )
    lines = [f"rejected: {r.where}: {r.reason}" for r in report.rejected]
    lines += [f"note: {n.where}: {n.message}" for n in report.notes]
    kind = "success" if report.exit_code == 0 else "warning" if report.accepted else "error"
    st.session_state["ingest_report"] = (kind, summary, lines)


def show_report(kind: str, summary: str, lines: list[str]) -> None:
    {"success": st.success, "warning": st.warning}.get(kind, st.error)(summary)
    for line in lines:
        st.text(line)
