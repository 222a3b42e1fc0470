"""Ingest jobs that outlive the browser tab: a queue in the data dir, drained by one worker per data dir.

A job is a row in ``<data_dir>/jobs.sqlite``; uploaded files are copied into ``<data_dir>/uploads`` before
their job is written, so a queued job never points at bytes that only lived in a browser. One ``Worker``
thread (the page's, through ``st.cache_resource``, or the HTTP API's) claims queued jobs oldest first and
runs them with ``Newsdesk.ingest``, recording progress as it goes. The worker holds ``jobs.lock`` for as
long as it lives, so a job found "running" by a worker that has just taken the lock was left by a process that
died: ingest is incremental and idempotent, so it is queued again (resumed) — up to ``MAX_ATTEMPTS`` times,
after which it is reported "stopped". A job is "done" only once the ingest has returned.

Nothing here imports Streamlit: the page, the CLI and an HTTP API can all submit and read jobs.
"""

from __future__ import annotations

import fcntl
import json
import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from ingest.indexer import IngestBusyError, IngestReport, Progress
from ingest.sqlite_files import transaction
from rag.errors import NewsdeskError, StoreError

if TYPE_CHECKING:  # the worker is handed a service; building one is the edge's job
    from ingest.service import Newsdesk

log = logging.getLogger("newsdesk.jobs")

JOBS_FILE = "jobs.sqlite"
UPLOADS = "uploads"
MAX_ATTEMPTS = 3  # a job its server died in three times is reported stopped rather than tried forever
State = Literal["queued", "running", "done", "failed", "stopped"]
Kind = Literal["ingest", "reindex"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, paths TEXT NOT NULL, state TEXT NOT NULL,
    created TEXT NOT NULL, started TEXT NOT NULL DEFAULT '', finished TEXT NOT NULL DEFAULT '',
    total INTEGER NOT NULL DEFAULT 0, articles INTEGER NOT NULL DEFAULT 0, chunks INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0, report TEXT NOT NULL DEFAULT '{}', error TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT ''
)
"""


@dataclass(frozen=True)
class Job:
    """One ingest job as stored; ``report`` is ``IngestReport.as_dict()`` once it has finished."""

    id: str
    kind: Kind
    paths: tuple[str, ...]
    state: State
    created: str
    started: str = ""
    finished: str = ""
    total: int = 0  # the estimate the progress bar runs to
    articles: int = 0  # read so far
    chunks: int = 0  # embedded so far
    attempts: int = 0
    report: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    note: str = ""

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def rejected(self) -> list[dict[str, str]]:
        return list(self.report.get("rejected", []))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class JobQueue:
    """The jobs of one data dir. Every call opens its own connection, so any thread may use it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / JOBS_FILE

    def _db(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path, _SCHEMA, "the job list")  # one transaction per call

    def save_uploads(self, files: Iterable[tuple[str, bytes]]) -> list[Path]:
        """Write uploaded files into ``<data_dir>/uploads`` (same name replaces) before any job names them."""
        folder = self.data_dir / UPLOADS
        saved = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in files:
                path = folder / Path(name).name  # the browser's file name, never a path
                partial = path.with_name(f".{path.name}.part")
                partial.write_bytes(data)
                partial.replace(path)  # whole or not at all: a crash never leaves half a file to ingest
                saved.append(path)
        except OSError as exc:
            raise StoreError(
                f"Cannot save uploads in {folder}: {exc.strerror or exc}. Check NEWSDESK_DATA_DIR."
            ) from exc
        return saved

    def submit(self, paths: Iterable[Path], kind: Kind = "ingest", total: int = 0) -> Job:
        """Queue a job; ``kind="reindex"`` re-embeds every stored article (``paths`` may then be empty)."""
        job = Job(uuid.uuid4().hex[:12], kind, tuple(str(p) for p in paths), "queued", _now(), total=total)
        with self._db() as db:
            db.execute(
                "INSERT INTO jobs (id, kind, paths, state, created, total) VALUES (?, ?, ?, ?, ?, ?)",
                (job.id, job.kind, json.dumps(job.paths), job.state, job.created, job.total),
            )
        return job

    def get(self, job_id: str) -> Job | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job(row)

    def jobs(self, limit: int = 20) -> list[Job]:
        """The newest ``limit`` jobs, newest first."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM jobs ORDER BY created DESC, rowid DESC LIMIT ?", (limit,)).fetchall()
        return [_job(r) for r in rows]

    def claim(self) -> Job | None:
        """The oldest queued job, now marked running (one attempt more); ``None`` when nothing waits."""
        with self._db() as db:
            row = db.execute("SELECT id FROM jobs WHERE state = 'queued' ORDER BY created, rowid LIMIT 1").fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state = 'running', started = ?, attempts = attempts + 1, "
                "note = CASE WHEN note LIKE 'waiting:%' THEN '' ELSE note END WHERE id = ?",
                (_now(), row["id"]),
            )
        return self.get(row["id"])

    def running(self) -> list[Job]:
        """The jobs a worker is running now (at most one per data dir), whichever process holds the worker."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM jobs WHERE state = 'running'").fetchall()
        return [_job(r) for r in rows]

    def requeue(self, job_id: str, note: str) -> None:
        """Put a claimed job back, its attempt not counted: it never started (the store was busy)."""
        with self._db() as db:
            db.execute("UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), note = ? WHERE id = ?",
                       (note, job_id))

    def progress(self, job_id: str, articles: int, chunks: int) -> None:
        with self._db() as db:
            db.execute("UPDATE jobs SET articles = ?, chunks = ? WHERE id = ?", (articles, chunks, job_id))

    def finish(self, job_id: str, report: IngestReport) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE jobs SET state = 'done', finished = ?, report = ?, articles = ?, chunks = ? WHERE id = ?",
                (_now(), json.dumps({**report.as_dict(), "exit_code": report.exit_code}),
                 report.accepted + len(report.rejected), report.chunks_embedded, job_id),
            )

    def fail(self, job_id: str, error: str) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE jobs SET state = 'failed', finished = ?, error = ? WHERE id = ?", (_now(), error, job_id)
            )

    def recover(self) -> list[Job]:
        """Jobs left "running" by a dead worker: queued again, or "stopped" after ``MAX_ATTEMPTS``.

        Only the holder of the worker lock may call this (see ``Worker``): it is what proves they are orphans.
        """
        with self._db() as db:
            rows = db.execute("SELECT id, attempts FROM jobs WHERE state = 'running'").fetchall()
            for row in rows:
                if row["attempts"] >= MAX_ATTEMPTS:
                    db.execute(
                        "UPDATE jobs SET state = 'stopped', finished = ?, note = ? WHERE id = ?",
                        (_now(), f"stopped: the server stopped during it {row['attempts']} times; "
                         "what was ingested is kept — start it again to finish", row["id"]),
                    )
                else:
                    db.execute(
                        "UPDATE jobs SET state = 'queued', note = ? WHERE id = ?",
                        ("resumed: the server stopped during this job; it is picked up where the store left off",
                         row["id"]),
                    )
        return [j for j in (self.get(r["id"]) for r in rows) if j is not None]


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"], kind=row["kind"], paths=tuple(json.loads(row["paths"])), state=row["state"],
        created=row["created"], started=row["started"], finished=row["finished"], total=row["total"],
        articles=row["articles"], chunks=row["chunks"], attempts=row["attempts"],
        report=json.loads(row["report"] or "{}"), error=row["error"], note=row["note"],
    )


Runner = Callable[[Job, Progress], IngestReport]


class Worker:
    """The one thread that drains a data dir's queue, holding ``jobs.lock`` while it lives.

    Several processes may serve one data dir: the first worker to take the lock drains the queue, the others
    wait for it (trying again every ``poll`` seconds), so a job is never run twice at once.
    """

    def __init__(self, queue: JobQueue, runner: Runner, poll: float = 0.5) -> None:
        self.queue = queue
        self.runner = runner
        self.poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock_file: IO[str] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once); it recovers orphaned jobs as soon as it holds the lock."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="newsdesk-jobs", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """A job was submitted: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 120) -> None:
        """Stop after the job in hand (waiting up to ``timeout`` seconds); the lock goes only once it is done,
        so no other worker can start the same job while this one still runs it."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            self._release()
        else:
            self._thread.join(timeout)

    def acquire(self) -> bool:
        """Take the worker lock (non-blocking); on success, recover what a dead worker left running."""
        if self._lock_file is not None:
            return True
        self.queue.data_dir.mkdir(parents=True, exist_ok=True)
        handle = (self.queue.data_dir / "jobs.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._lock_file = handle
        for job in self.queue.recover():
            log.warning("job %s was left running by a stopped server: now %s", job.id, job.state)
        return True

    def _release(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing the file releases the flock
            self._lock_file = None

    def run_once(self) -> Job | None:
        """Claim and run one queued job (the lock must be held); the job as it ended, or ``None``."""
        job = self.queue.claim()
        if job is None:
            return None
        try:
            report = self.runner(job, lambda articles, chunks: self.queue.progress(job.id, articles, chunks))
        except IngestBusyError as exc:  # a delete or a CLI ingest holds the store: wait for it, do not fail
            self.queue.requeue(job.id, f"waiting: {exc}")
        except NewsdeskError as exc:
            self.queue.fail(job.id, str(exc))
        except Exception as exc:  # a bug must not kill the worker: the job says so, the log has the trace
            log.exception("ingest job %s failed", job.id)
            self.queue.fail(job.id, f"ingest failed unexpectedly ({type(exc).__name__}); see the server log")
        else:
            self.queue.finish(job.id, report)
        return self.queue.get(job.id)

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    if self.acquire() and (job := self.run_once()) is not None and not job.active:
                        continue  # more may be queued (a job put back waits for the next poll)
                except Exception:  # the job list itself is unreadable: say so in the log, keep trying
                    log.exception("the ingest job list cannot be read")
                self._wake.wait(self.poll)
                self._wake.clear()
        finally:
            self._release()


def service_runner(service: Newsdesk) -> Runner:
    """A ``Runner`` that ingests through the façade, as `newsdesk ingest` does."""

    def run(job: Job, progress: Progress) -> IngestReport:
        paths = [Path(p) for p in job.paths]
        # A resumed re-index must not drop the chunks again: the articles still marked stale are what is left.
        rebuild = job.kind == "reindex" and job.attempts <= 1
        return service.ingest(paths, rebuild=rebuild, progress=progress)

    return run
