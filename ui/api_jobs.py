"""The API's side of the ingest job queue (``ingest/jobs.py``): the same jobs the page submits and shows.

Jobs are rows in ``<data_dir>/jobs.sqlite`` and uploads are copied to ``<data_dir>/uploads`` before their job
is written, so a job outlives the server that took it: a job a killed server left running is resumed (or
reported stopped) by the next worker to start on the data dir. One worker per data dir drains the queue (it
holds ``jobs.lock``); when the page and the API serve one data dir, whichever took the lock first runs every
job, the other only submits and reads, and takes over if the first one stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingest.indexer import IngestReport
from ingest.jobs import Job, JobQueue, Worker, service_runner
from ingest.service import Newsdesk
from ingest.sources import Rejected, estimate_articles
from ui.api_models import IngestReportOut, JobOut

STOP_WAIT = 30.0  # seconds a stopping server waits for the job in hand; a job cut short is resumed on restart


class ApiJobs:
    """The data dir's job queue and this server's worker (started and stopped with the app)."""

    def __init__(self, service: Newsdesk, data_dir: Path) -> None:
        self.queue = JobQueue(data_dir)
        self.worker = Worker(self.queue, service_runner(service))

    def start(self) -> None:
        self.worker.start()  # takes the lock when free: recovers what a killed server left running

    def stop(self) -> None:
        self.worker.stop(STOP_WAIT)

    def submit(self, files: Sequence[tuple[str, bytes]]) -> Job:
        """Save the files (checked already) in the data dir's uploads, then queue their ingest."""
        paths = self.queue.save_uploads(files)
        job = self.queue.submit(paths, total=estimate_articles(paths))
        self.worker.wake()
        return job

    def get(self, job_id: str) -> Job | None:
        return self.queue.get(job_id)

    def writing(self) -> Job | None:
        """The job writing to the store now, whichever process runs it."""
        running = self.queue.running()
        return running[0] if running else None


def job_out(job: Job) -> JobOut:
    """A queue row as GET /v1/jobs/{id} reports it."""
    report = IngestReportOut.model_validate(_report(job.report)) if job.state == "done" else None
    return JobOut(
        id=job.id, kind=job.kind, status=job.state, inputs=[Path(p).name for p in job.paths],
        created_at=job.created, started_at=job.started or None, finished_at=job.finished or None,
        articles_total=job.total, articles_seen=job.articles, chunks_embedded=job.chunks, attempts=job.attempts,
        note=job.note or None, report=report, error=job.error or None,
    )


def _report(report: dict[str, Any]) -> dict[str, Any]:
    """The stored report with the CLI's exit code (jobs finished before it was stored get it worked out)."""
    if "exit_code" in report:
        return report
    counts = {k: report.get(k, 0) for k in ("added", "updated", "unchanged")}
    rejected = [Rejected(r["where"], r["reason"]) for r in report.get("rejected", [])]
    return {**report, "exit_code": IngestReport(**counts, rejected=rejected).exit_code}
