"""The article manager: what is indexed, searchable by title, source and date; delete (confirmed) and re-index.

A page of the chat app (``st.navigation`` in ``ui/app.py``). Deleting removes the article record, its chunks
and its BM25 entries (``Newsdesk.delete``); re-indexing is an ingest job like an upload.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from ingest.service import Newsdesk
from rag.errors import NewsdeskError
from rag.records import Article
from ui.jobs_panel import jobs_panel, submit_reindex
from ui.render import escape_markdown
from ui.resources import jobs, load_settings, service_for

PAGE_ROWS = 200


@st.cache_data(show_spinner="Reading the article list…", max_entries=4)
def catalog(data_key: str, generation: str, _service: Newsdesk) -> list[tuple[Article, int]]:
    """Every stored article (without text) with its chunk count; re-read when the store's generation moves."""
    return _service.catalog()


def matches(article: Article, words: str, sources: list[str], since: date | None, until: date | None) -> bool:
    if words and words.lower() not in article.title.lower() and words.lower() not in article.id.lower():
        return False
    if sources and article.source not in sources:
        return False
    day = article.published_at[:10]
    if since and (not day or day < since.isoformat()):
        return False
    return not (until and (not day or day > until.isoformat()))


def articles_page() -> None:
    settings = load_settings()
    try:
        service = service_for(settings)
        exists = service.status().articles > 0
        rows = catalog(str(settings.data_dir), service.generation(), service) if exists else []
    except NewsdeskError as exc:
        st.error(str(exc))
        st.stop()
        return
    queue, worker = jobs(settings)
    st.title(":material/library_books: Articles")
    with st.sidebar:
        st.subheader("Ingest jobs")
        if st.button("Re-index every article", icon=":material/refresh:", disabled=not rows,
                     help="Re-embed every stored article from its stored text (after changing embedder or chunking)."):
            submit_reindex(queue, worker)
            st.rerun()
        jobs_panel(queue)
    if not rows:
        st.info("No articles are indexed yet. Add some on the Chat page or run `newsdesk ingest PATH`.")
        return

    left, middle = st.columns(2)
    words = left.text_input("Title contains", placeholder="Search titles")
    sources = middle.multiselect("Sources", sorted({a.source for a, _ in rows if a.source}), placeholder="All")
    left, middle = st.columns(2)
    since = left.date_input("Published from", value=None, min_value=date(1900, 1, 1), format="YYYY-MM-DD")
    until = middle.date_input("Published until", value=None, min_value=date(1900, 1, 1), format="YYYY-MM-DD")
    shown = [(a, n) for a, n in rows if matches(a, words.strip(), sources, since, until)]
    shown.sort(key=lambda row: (row[0].published_at, row[0].title), reverse=True)
    st.caption(f"{len(shown):,} of {len(rows):,} articles · {sum(n for _, n in shown):,} chunks")

    table = {
        "Title": [a.title or a.id for a, _ in shown[:PAGE_ROWS]],
        "Source": [a.source for a, _ in shown[:PAGE_ROWS]],
        "Published": [a.published_at or "—" for a, _ in shown[:PAGE_ROWS]],
        "Chunks": [n for _, n in shown[:PAGE_ROWS]],
        "ID": [a.id for a, _ in shown[:PAGE_ROWS]],
    }
    st.dataframe(table, hide_index=True, width="stretch")
    if len(shown) > PAGE_ROWS:
        st.caption(f"Showing the newest {PAGE_ROWS}; narrow the search to see the rest.")
    by_id = {a.id: a for a, _ in rows}
    # Articles chosen before the search changed stay chosen (and must stay among the options).
    kept = [i for i in st.session_state.get("to-delete", []) if i in by_id]
    options = list(dict.fromkeys([*kept, *(a.id for a, _ in shown[:PAGE_ROWS])]))
    chosen = st.multiselect("Articles to delete", options, format_func=lambda i: f"{by_id[i].title or i} · {i}",
                            placeholder="Choose from the articles listed above", key="to-delete")
    if chosen:
        confirm_delete(service, [by_id[i] for i in chosen])


def confirm_delete(service: Newsdesk, chosen: list[Article]) -> None:
    names = ", ".join(f"“{a.title or a.id}”" for a in chosen[:3])
    names += f" and {len(chosen) - 3} more" if len(chosen) > 3 else ""
    with st.container(border=True):
        st.markdown(escape_markdown(f"Delete {names}? ") + "Their chunks and search entries go too; re-ingesting "
                    "the file brings it back.")
        sure = st.checkbox(f"Yes, delete {len(chosen)} article{'s' if len(chosen) != 1 else ''}", key="delete-sure")
        if st.button("Delete", type="primary", disabled=not sure, icon=":material/delete:"):
            try:
                gone = service.delete([a.id for a in chosen])
            except NewsdeskError as exc:
                st.error(str(exc))
                return
            for key in ("delete-sure", "to-delete"):
                st.session_state.pop(key, None)
            st.toast(f"Deleted {gone} article{'s' if gone != 1 else ''}.")
            st.rerun()


articles_page()
