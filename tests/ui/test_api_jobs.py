"""API ingest jobs are the data dir's durable jobs: a real `newsdesk serve` killed mid-job (SIGKILL) and started
again resumes the job, never reports it done half done; the page and the API share one queue and one worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ingest.indexer import IngestReport
from ingest.jobs import MAX_ATTEMPTS, Job, JobQueue, Worker
from rag.pipeline import BUNDLED_CORPUS
from tests.samples import PORTS_TXT
from tests.servers.api_server import running_api
from tests.ui.conftest import _forget_chroma_clients, app_on, ingest_into

pytestmark = [pytest.mark.integration, pytest.mark.slow]
COUNT = 400  # about three write batches (ingest.indexer.GROUP_CHUNKS): the kill lands after the first


def _wire(n: int) -> bytes:
    """``n`` hand-made articles as JSONL, each long enough for a few chunks."""
    lines = []
    for i in range(n):
        paragraphs = [f"The harbour board met on day {i} to discuss dredging berth {i} and the lifeboat station.",
                      f"Councillors approved {i + 3} new moorings after a long debate about fees and winter storms.",
                      f"Fishermen said catches of crab near the pier had risen for the {i % 7 + 2}th season running."]
        text = "\n\n".join(" ".join([p] * 4) for p in paragraphs)
        lines.append(json.dumps({"id": f"wire-{i:03d}", "title": f"Harbour report {i}", "text": text}))
    return ("\n".join(lines) + "\n").encode()


def _stored(data_dir: Path) -> int:
    """`newsdesk status --json`'s article count, read by a process of its own (the server is dead)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "OPENAI_"))}
    env["NEWSDESK_DATA_DIR"] = str(data_dir)
    done = subprocess.run([sys.executable, "-m", "ui", "status", "--json"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout)["articles"])


def _poll(http: httpx.Client, job_id: str, until: set[str], timeout: float = 300.0) -> list[dict[str, Any]]:
    """Every state GET /v1/jobs/{id} reported until one in ``until``."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = http.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        seen.append(response.json())
        if seen[-1]["status"] in until:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached {until} in {timeout:.0f}s: {seen[-1:]}")


def test_a_job_the_server_was_killed_in_is_resumed_on_restart_and_done_only_with_every_article(
    tmp_path: Path,
) -> None:
    data_dir, home = tmp_path / "data", tmp_path / "home"
    with running_api(data_dir, home) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        posted = http.post("/v1/articles", content=_wire(COUNT), headers={"content-type": "application/x-ndjson"})
        assert posted.status_code == 202, posted.text
        job_id = posted.json()["id"]
        deadline = time.monotonic() + 300
        while (job := http.get(f"/v1/jobs/{job_id}").json())["status"] == "queued" or (
                job["status"] == "running" and job["articles_seen"] == 0):  # until the first batch is written
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)  # no shutdown: the worker dies with its job in hand
    left = JobQueue(data_dir).get(job_id)
    assert left is not None and left.state == "running" and left.report == {}, "the kill must land mid-job"
    stored = _stored(data_dir)
    assert stored < COUNT, "the kill must land before every article is stored"

    with running_api(data_dir, home) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        states = _poll(http, job_id, {"done", "failed", "stopped"})
        assert http.get("/v1/status").json()["articles"] == COUNT
        assert job_id in [j["id"] for j in http.get("/v1/jobs").json()["jobs"]]
    done = states[-1]
    assert done["status"] == "done" and done["attempts"] == 2, done
    assert done["note"].startswith("resumed: the server stopped during this job")
    assert (done["report"]["added"], done["report"]["unchanged"]) == (COUNT - stored, stored)
    assert done["report"]["exit_code"] == 0 and done["inputs"][0].endswith(".jsonl")
    assert all(s["report"] is None for s in states if s["status"] != "done")


def _left_running_too_often(queue: JobQueue) -> Job:
    """A job as a server that died in it ``MAX_ATTEMPTS`` times leaves it (each death is a claim, then the next
    worker's recovery)."""
    [upload] = queue.save_uploads([("ports.txt", PORTS_TXT.encode())])
    job = queue.submit([upload])
    for attempt in range(MAX_ATTEMPTS):
        claimed = queue.claim()
        assert claimed is not None and claimed.id == job.id
        if attempt < MAX_ATTEMPTS - 1:
            queue.recover()
    return job


def test_a_job_the_server_died_in_too_often_is_reported_stopped_not_done(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    job = _left_running_too_often(JobQueue(data_dir))
    with running_api(data_dir, tmp_path / "home") as server, httpx.Client(base_url=server.url, timeout=60) as http:
        [stopped] = _poll(http, job.id, {"stopped", "done", "failed"}, timeout=60)[-1:]
        assert http.get("/v1/status").json()["articles"] == 0  # it was not run a fourth time
    assert stopped["status"] == "stopped" and stopped["report"] is None and stopped["attempts"] == MAX_ATTEMPTS
    assert "start it again" in stopped["note"]


def _never(job: Job, progress: Any) -> IngestReport:
    raise AssertionError(f"the page's worker ran job {job.id} while the API's held the worker lock")


def test_the_page_and_the_api_share_the_data_dirs_jobs_and_one_worker_runs_them(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    queue = JobQueue(data_dir)
    with running_api(data_dir, tmp_path / "home") as server, httpx.Client(base_url=server.url, timeout=60) as http:
        _poll_lock_taken(data_dir)
        page_worker = Worker(queue, _never, poll=0.05)  # what the page starts on the same data dir
        page_worker.start()
        try:
            # A job started on the page (as ui/jobs_panel.submit_uploads does) is run by the API's worker...
            [saved] = queue.save_uploads([("ports.txt", PORTS_TXT.encode())])
            from_page = queue.submit([saved], total=1)
            listed = http.get("/v1/jobs").json()["jobs"]
            assert from_page.id in [j["id"] for j in listed]
            page_done = _poll(http, from_page.id, {"done", "failed", "stopped"})[-1]
            assert page_done["status"] == "done" and page_done["report"]["added"] == 1, page_done
            # ...and one posted to the API is on the page's list (the rows the jobs panel shows).
            body = json.dumps({"id": "api-1", "title": "Ferry", "text": "The ferry runs again."}).encode()
            posted = http.post("/v1/articles", content=body, headers={"content-type": "application/x-ndjson"})
            api_done = _poll(http, posted.json()["id"], {"done", "failed", "stopped"})[-1]
            assert api_done["status"] == "done" and api_done["report"]["added"] == 1, api_done
            assert [j.id for j in queue.jobs()] == [posted.json()["id"], from_page.id]
            assert http.get("/v1/status").json()["articles"] == 2
            assert not page_worker.acquire()  # the API's worker holds the lock while its server lives
        finally:
            page_worker.stop(timeout=10)


def _poll_lock_taken(data_dir: Path, timeout: float = 30.0) -> None:
    """Wait until the server's worker holds the data dir's worker lock."""
    probe = Worker(JobQueue(data_dir), _never)
    deadline = time.monotonic() + timeout
    while probe.acquire():
        probe.stop()
        assert time.monotonic() < deadline, "the API's worker never took the worker lock"
        time.sleep(0.1)


def test_the_page_lists_a_job_posted_to_the_api_and_the_api_runs_and_lists_one_started_on_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    ingest_into(data_dir, BUNDLED_CORPUS)
    _forget_chroma_clients()
    with running_api(data_dir, tmp_path / "home") as server, httpx.Client(base_url=server.url, timeout=60) as http:
        posted = http.post("/v1/articles", files=[("files", ("ports.txt", PORTS_TXT))]).json()
        assert _poll(http, posted["id"], {"done", "failed", "stopped"})[-1]["status"] == "done"
        _poll_lock_taken(data_dir)  # so the page's worker, started by its first run, only waits for the lock
        at = app_on(data_dir, monkeypatch).run()  # the real page, in this process, on the same data dir
        assert not at.exception, [e.value for e in at.exception]
        assert "**Ingest ports.txt**" in [m.value for m in at.sidebar.markdown]
        assert any(s.value.startswith("Added 1 · updated 0 · unchanged 0 · rejected 0") for s in at.sidebar.success)
        at.switch_page("articles_page.py").run()
        [reindex] = [b for b in at.sidebar.button if b.label == "Re-index every article"]
        reindex.click().run()  # queued by the page; the API's worker holds the lock, so it runs it
        assert not at.exception, [e.value for e in at.exception]
        newest = http.get("/v1/jobs", params={"limit": 1}).json()["jobs"][0]
        assert newest["kind"] == "reindex" and newest["id"] != posted["id"]
        done = _poll(http, newest["id"], {"done", "failed", "stopped"})[-1]
        stored = http.get("/v1/status").json()["articles"]
        assert done["status"] == "done" and done["report"]["reindexed"] == stored > 1, done
