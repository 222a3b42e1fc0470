"""Ingest jobs on the page: start one from uploads (or a re-index), watch running and finished ones.

The jobs run in the server's worker (``ui.resources.jobs``); this only submits them and reads their rows, so
closing or reloading the tab changes nothing about the ingest.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from ingest.jobs import Job, JobQueue, Worker
from rag.errors import NewsdeskError

SHOWN_JOBS = 4
SHOWN_REJECTED = 3  # the rest fold into an expander, so a bad batch cannot push the controls off screen


def submit_uploads(queue: JobQueue, worker: Worker, uploads: Sequence[Any]) -> Job | None:
    """Copy the uploads into the data dir, then queue their ingest; an error is shown, not raised."""
    from ingest.sources import estimate_articles

    try:
        paths = queue.save_uploads((Path(u.name).name, u.getvalue()) for u in uploads)
        job = queue.submit(paths, total=estimate_articles(paths))
    except NewsdeskError as exc:
        st.error(str(exc))
        return None
    worker.wake()
    return job


def submit_reindex(queue: JobQueue, worker: Worker) -> Job:
    job = queue.submit([], kind="reindex")
    worker.wake()
    return job


def label(job: Job) -> str:
    """'Re-index' or 'Ingest a.txt, b.md (+3 more)'."""
    if job.kind == "reindex":
        return "Re-index every article"
    names = [Path(p).name for p in job.paths]
    shown = ", ".join(names[:2]) + (f" (+{len(names) - 2} more)" if len(names) > 2 else "")
    return f"Ingest {shown or 'nothing'}"


def summary(report: dict[str, Any]) -> str:
    rejected = len(report.get("rejected", []))
    return (
        f"Added {report.get('added', 0)} · updated {report.get('updated', 0)} · unchanged "
        f"{report.get('unchanged', 0)} · rejected {rejected}"
        + (f" · re-indexed {report['reindexed']}" if report.get("reindexed") else "")
        + f" — {report.get('chunks_embedded', 0)} chunks embedded in {report.get('seconds', 0):.1f}s"
    )


def show_job(job: Job) -> None:
    """One job: a progress bar while it runs, its outcome when it has finished."""
    st.markdown(f"**{label(job)}**")
    if job.note:
        st.caption(job.note)
    if job.state == "queued":
        st.progress(0.0, text="Waiting for the ingest before it…")
    elif job.state == "running":
        total = max(job.total, job.articles, 1)
        done = f"{job.articles:,} of ~{total:,} articles" if job.kind == "ingest" else f"{job.articles:,} articles"
        st.progress(min(1.0, job.articles / total), text=f"{done} · {job.chunks:,} chunks embedded")
    elif job.state == "failed":
        st.error(job.error)
    elif job.state == "stopped":
        st.warning("Stopped before the end: " + (job.note or "the server stopped during it."))
    else:
        show_outcome(job)


def show_outcome(job: Job) -> None:
    report = job.report
    rejected = job.rejected
    notes = list(report.get("notes", []))
    accepted = report.get("added", 0) + report.get("updated", 0) + report.get("unchanged", 0)
    kind = st.success if not rejected else st.warning if accepted else st.error
    kind(summary(report))
    for item in rejected[:SHOWN_REJECTED]:
        st.caption(f"rejected: {item['where']}: {item['reason']}")
    more = rejected[SHOWN_REJECTED:]
    if more or notes:
        title = " and ".join(x for x in (f"{len(more)} more rejected" if more else "",
                                           f"{len(notes)} notes" if notes else "") if x)
        with st.expander(title):
            st.text("\n".join([f"rejected: {r['where']}: {r['reason']}" for r in more]
                              + [f"note: {n['where']}: {n['message']}" for n in notes]))


def jobs_panel(queue: JobQueue) -> None:
    """The latest jobs; refreshes itself every second while one is queued or running."""
    active = any(j.active for j in queue.jobs(SHOWN_JOBS))
    st.fragment(_panel, run_every=1.0 if active else None)(queue)


def _panel(queue: JobQueue) -> None:
    jobs = queue.jobs(SHOWN_JOBS)
    watched: set[str] = st.session_state.setdefault("jobs_watched", set())
    finished_now = [j for j in jobs if j.id in watched and not j.active]
    watched.update(j.id for j in jobs if j.active)
    if finished_now:
        watched.difference_update(j.id for j in finished_now)
        st.rerun()  # the whole page: article counts, sources and starter questions have changed
    for job in jobs:
        with st.container(border=True):
            show_job(job)
