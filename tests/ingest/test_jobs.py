"""The ingest job queue: jobs run by a worker outside any browser session, and survive the server dying."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.indexer import IngestReport
from ingest.jobs import MAX_ATTEMPTS, Job, JobQueue, Worker, service_runner
from ingest.service import Newsdesk, build_service
from ingest.sources import estimate_articles
from rag.embedder import MiniLMEmbedder
from rag.errors import StoreError
from rag.settings import Settings

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def service(settings: Settings, embedder: MiniLMEmbedder) -> Newsdesk:
    return build_service(settings, embedder=embedder)


def test_a_queued_job_is_run_by_the_worker_and_reported_with_its_counts(service: Newsdesk, tiny_corpus: Path) -> None:
    queue = JobQueue(service.settings.data_dir)
    (tiny_corpus / "broken.txt").write_bytes(b"\x00\x01binary")
    job = queue.submit([tiny_corpus], total=estimate_articles([tiny_corpus]))
    assert queue.get(job.id) is not None and queue.get(job.id).state == "queued"  # type: ignore[union-attr]

    worker = Worker(queue, service_runner(service), poll=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 120
        while (current := queue.get(job.id)) is not None and current.active:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        worker.stop()

    assert current is not None and current.state == "done"
    assert current.report["added"] == 6 and current.chunks == current.report["chunks_embedded"] > 0
    assert [r["where"] for r in current.rejected] == ["broken.txt"]
    assert "binary" in current.rejected[0]["reason"]
    assert service.status().articles == 6
    assert current.attempts == 1 and current.finished >= current.started


def test_uploads_are_copied_into_the_data_dir_by_name_only(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path / "data")
    [saved] = queue.save_uploads([("../../escape.txt", b"Harbour reopens\n\nBoats returned.")])
    assert saved == tmp_path / "data" / "uploads" / "escape.txt"
    assert saved.read_bytes().startswith(b"Harbour reopens")
    assert not (tmp_path / "escape.txt").exists()
    assert [p.name for p in saved.parent.iterdir()] == ["escape.txt"]  # no partial file left behind


def test_a_runner_error_fails_the_job_with_its_message_and_the_worker_goes_on(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path / "data")
    calls: list[str] = []

    def runner(job: Job, progress: object) -> IngestReport:
        calls.append(job.id)
        if len(calls) == 1:
            raise StoreError("Cannot write to the data folder: disk full. Free some space.")
        return IngestReport(added=1)

    first, second = queue.submit([tmp_path / "a"]), queue.submit([tmp_path / "b"])
    worker = Worker(queue, runner)
    assert worker.acquire()
    try:
        assert worker.run_once().state == "failed"  # type: ignore[union-attr]
        assert worker.run_once().state == "done"  # type: ignore[union-attr]
        assert worker.run_once() is None
    finally:
        worker.stop()
    assert queue.get(first.id).error.startswith("Cannot write")  # type: ignore[union-attr]
    assert calls == [first.id, second.id]


def test_a_job_the_server_died_in_too_often_is_reported_stopped_never_done(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path / "data")
    job = queue.submit([tmp_path / "corpus"])
    states = []
    for _ in range(MAX_ATTEMPTS):
        assert queue.claim() is not None  # a worker starts it ... and its process dies (nothing finishes it)
        [recovered] = queue.recover()
        states.append(recovered.state)
    assert states == ["queued"] * (MAX_ATTEMPTS - 1) + ["stopped"]
    stopped = queue.get(job.id)
    assert stopped is not None and stopped.state == "stopped" and not stopped.active
    assert "stopped" in stopped.note and stopped.report == {}
    assert queue.claim() is None


@pytest.mark.slow
def test_a_job_left_running_by_a_killed_server_is_resumed_and_finishes(tmp_path: Path, tiny_corpus: Path) -> None:
    data_dir = tmp_path / "data"
    queue = JobQueue(data_dir)
    job = queue.submit([tiny_corpus], total=6)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-m", "tests.ingest.job_child", str(data_dir)], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("mid-ingest"), line + child.stdout.read()
        running = queue.get(job.id)
        assert running is not None and running.state == "running"
        # While that server lives, nobody else may take its job over.
        assert not Worker(queue, lambda j, p: IngestReport()).acquire()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert queue.get(job.id).state == "running"  # type: ignore[union-attr]  # what the dead server left behind

    service = build_service(Settings(data_dir=data_dir))
    worker = Worker(queue, service_runner(service))
    assert worker.acquire()  # the lock died with the child: its "running" job is an orphan
    resumed = queue.get(job.id)
    assert resumed is not None and resumed.state == "queued" and "resumed" in resumed.note
    try:
        done = worker.run_once()
    finally:
        worker.stop()
    assert done is not None and done.id == job.id and done.state == "done" and done.attempts == 2
    assert done.report["added"] + done.report["unchanged"] == 6
    articles, chunks = service.pipeline.store.counts()
    assert articles == 6
    lexical = service.pipeline.fresh_lexical()
    assert len(lexical) == chunks  # the BM25 index the dead run never built is complete now


def test_a_job_claimed_while_another_ingest_holds_the_store_waits_for_it_and_then_runs(
    service: Newsdesk, tiny_corpus: Path
) -> None:
    from ingest.indexer import ingest_lock

    queue = JobQueue(service.settings.data_dir)
    job = queue.submit([tiny_corpus])
    worker = Worker(queue, service_runner(service))
    assert worker.acquire()
    with ingest_lock(service.settings.data_dir):  # a `newsdesk ingest` or a delete from another process
        waiting = worker.run_once()
    assert waiting is not None and waiting.state == "queued" and waiting.attempts == 0
    assert waiting.note.startswith("waiting: Another `newsdesk ingest` is running")
    done = worker.run_once()
    worker.stop()
    assert done is not None and done.id == job.id and done.state == "done" and done.attempts == 1
    assert done.note == "" and done.report["added"] == 6 and done.report["exit_code"] == 0
