"""Ingest jobs: uploads saved to the data dir, ingested one job at a time by a worker thread the server owns.

Jobs live in memory: a restarted server forgets them (the articles they ingested stay in the store).
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from ingest.service import Newsdesk
from rag.errors import NewsdeskError

log = logging.getLogger("newsdesk.api")
KEEP_JOBS = 200  # finished jobs remembered for GET /v1/jobs/{id}; the oldest are forgotten first


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Job:
    """What GET /v1/jobs/{id} reports."""

    id: str
    folder: Path
    inputs: tuple[str, ...]
    status: str = "queued"  # queued → running → done | failed
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    articles_seen: int = 0
    chunks_embedded: int = 0
    report: dict[str, object] | None = None
    error: str | None = None


class JobRunner:
    """Queues ingest jobs and runs them one after another on one thread (ingest takes a lock per data dir)."""

    def __init__(self, service: Newsdesk, uploads: Path) -> None:
        self.service = service
        self.uploads = uploads
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        # Held while a job writes; deletes take it too, so the two never meet at the data dir's ingest lock.
        self.writing = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="newsdesk-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the running job finish (ingest is safe to interrupt, but a clean stop is cheaper), then end."""
        if self._thread is not None:
            with self._lock:
                running = [j.id for j in self._jobs.values() if j.status == "running"]
            if running:
                log.warning("waiting up to %.0f s for ingest job %s to finish (queued jobs are dropped)",
                            timeout, running[0])
            self._stopping.set()
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def folder(self) -> tuple[str, Path]:
        """A new job id and the empty folder its uploads are saved in (named ``uploads``, as the page's are:
        an uploaded file's source is the folder it is ingested from)."""
        job_id = uuid.uuid4().hex
        folder = self.uploads / job_id / "uploads"
        folder.mkdir(parents=True, exist_ok=False)
        return job_id, folder

    def discard(self, job_id: str) -> None:
        """Remove a job's uploads: once ingested, the texts are in the store (ingest --prune never looks here)."""
        shutil.rmtree(self.uploads / job_id, ignore_errors=True)

    def submit(self, job_id: str, folder: Path) -> Job:
        """Queue the files saved in ``folder`` for ingest."""
        job = Job(id=job_id, folder=folder, inputs=tuple(sorted(p.name for p in folder.iterdir())))
        with self._lock:
            self._jobs[job_id] = job
            while len(self._jobs) > KEEP_JOBS:
                self._jobs.popitem(last=False)
        self._queue.put(job_id)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id] = replace(self._jobs[job_id], **changes)  # type: ignore[arg-type]

    def _work(self) -> None:
        while (job_id := self._queue.get()) is not None:
            if self._stopping.is_set():  # shutting down: only the job already running is finished
                self.discard(job_id)
                continue
            job = self.get(job_id)
            if job is not None:
                self._run(job)

    def _run(self, job: Job) -> None:
        try:
            with self.writing:  # "running" means the store is being written: deletes wait for "done"
                outcome = self._ingest(job)
            # Published only once the store is free, so a client that reads "done" can delete at once.
            self._update(job.id, finished_at=_now(), **outcome)
        finally:
            self.discard(job.id)

    def _ingest(self, job: Job) -> dict[str, object]:
        """Run the job; what its record says at the end (status, counts or the error)."""
        self._update(job.id, status="running", started_at=_now())

        def progress(articles: int, chunks: int) -> None:
            self._update(job.id, articles_seen=articles, chunks_embedded=chunks)

        try:
            report = self.service.ingest([job.folder], progress=progress)
        except NewsdeskError as exc:
            return {"status": "failed", "error": str(exc)}
        except Exception:  # the server keeps serving; the details go to its log, not to the client
            log.exception("ingest job %s failed", job.id)
            return {"status": "failed", "error": "The ingest failed unexpectedly; the details are in the server's log."}
        summary = {**report.as_dict(), "exit_code": report.exit_code}
        return {"status": "done", "chunks_embedded": report.chunks_embedded, "report": summary}
