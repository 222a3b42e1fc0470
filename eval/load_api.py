"""Load benchmark for `newsdesk serve` (a locustfile; a benchmark that prints numbers, not a test).

Closed-loop clients ask a question set through the OpenAI-compatible route, three non-streamed for one
streamed, while (optionally) an ingest job runs; every answer must come back 200 with its citations (or as a
refusal), else it counts as an error. The issue's run, against a server on the RealTime QA gold store:

    newsdesk serve --port 8600 &          # NEWSDESK_DATA_DIR pointing at the gold store
    locust -f eval/load_api.py --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:8600 \\
        --questions ../shared/data/realtimeqa-2022/questions.jsonl --ingest-file ARTICLES.jsonl \\
        --report docs/benchmarks/api-load-DATE.json

Options (after locust's own): ``--questions`` (a question set, default the bundled one), ``--ingest-file``
(a .jsonl POSTed as an ingest job when the run starts), ``--api-key`` (default ``$NEWSDESK_API_KEY``),
``--report`` (also write the summary as JSON). The summary (p50/p95 per request kind, throughput, errors,
the ingest job's outcome) is printed when the run ends.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, constant, events, task
from locust.env import Environment

from eval.questions import load_questions

BUNDLED = Path(__file__).resolve().parent / "questions" / "bundled.jsonl"
_state: dict[str, Any] = {"questions": [], "ingest": {}}


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--questions", default=str(BUNDLED), help="question set (JSONL), asked round-robin")
    parser.add_argument("--ingest-file", default="", help="a .jsonl of articles to ingest while the load runs")
    parser.add_argument("--api-key", default=os.environ.get("NEWSDESK_API_KEY", ""), help="the server's key")
    parser.add_argument("--report", default="", help="also write the summary here as JSON")


def _headers(environment: Environment) -> dict[str, str]:
    key = environment.parsed_options.api_key if environment.parsed_options else ""
    return {"Authorization": f"Bearer {key}"} if key else {}


@events.test_start.add_listener
def _start(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    assert options is not None  # locust parses the command line before the run starts
    questions = load_questions(Path(options.questions))
    _state["questions"] = itertools.cycle([(q.question, q.asked_on) for q in questions])
    _state["started"] = time.perf_counter()
    if options.ingest_file:
        gevent.spawn(_run_ingest, environment, Path(options.ingest_file))


def _run_ingest(environment: Environment, path: Path) -> None:
    """POST the file as an ingest job, then poll it to the end (not counted in the request statistics)."""
    import requests

    base, headers = environment.host, _headers(environment)
    started = time.perf_counter()
    response = requests.post(f"{base}/v1/articles", data=path.read_bytes(),
                             headers={**headers, "Content-Type": "application/x-ndjson"}, timeout=300)
    job = response.json()
    while True:  # the summary shows the last state seen: a job still running when the load ends says so
        report = job.get("report") or {}
        _state["ingest"] = {
            "status": job.get("status", f"HTTP {response.status_code}"), "error": job.get("error"),
            "seconds": round(time.perf_counter() - started, 1), "articles_seen": job.get("articles_seen"),
            "chunks_embedded": job.get("chunks_embedded"), "added": report.get("added"),
            "rejected": len(report.get("rejected", [])),
        }
        if not response.ok or job.get("status") not in {"queued", "running"}:
            return
        gevent.sleep(0.5)
        job = requests.get(f"{base}/v1/jobs/{job['id']}", headers=headers, timeout=60).json()


class Asker(HttpUser):
    """One client: asks, reads the whole answer, asks again (no think time: a closed loop)."""

    wait_time = constant(0)

    def _body(self, stream: bool) -> dict[str, Any]:
        question, asked_on = next(_state["questions"])
        body: dict[str, Any] = {"model": "newsdesk", "stream": stream,
                                "messages": [{"role": "user", "content": question}]}
        if asked_on:
            body["newsdesk"] = {"as_of": asked_on}
        return body

    @task(3)
    def ask(self) -> None:
        with self.client.post("/v1/chat/completions", json=self._body(False), headers=_headers(self.environment),
                              name="chat", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            extra = response.json().get("newsdesk", {})
            if not extra.get("refused") and not extra.get("citations"):
                response.failure("an answer without citations")

    @task(1)
    def ask_streamed(self) -> None:
        with self.client.post("/v1/chat/completions", json=self._body(True), headers=_headers(self.environment),
                              name="chat (streamed)", stream=True, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            events_seen = [line for line in response.iter_lines(decode_unicode=True) if line.startswith("data: ")]
            if not events_seen or events_seen[-1] != "data: [DONE]":
                response.failure("the stream did not end with data: [DONE]")
            elif '"finish_reason":"stop"' not in events_seen[-2]:
                response.failure("no closing chunk before [DONE]")


@events.quitting.add_listener
def _summary(environment: Environment, **_: Any) -> None:
    stats = environment.stats
    seconds = time.perf_counter() - _state.get("started", time.perf_counter())
    kinds = {}
    for entry in [*stats.entries.values(), stats.total]:
        kinds[entry.name] = {
            "requests": entry.num_requests, "errors": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.5), "p95_ms": entry.get_response_time_percentile(0.95),
            "per_second": round(entry.num_requests / seconds, 2) if seconds else 0.0,
        }
    options = environment.parsed_options
    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "host": environment.host,
        "clients": options.num_users if options else None, "seconds": round(seconds, 1),
        "cores": os.cpu_count(), "machine": platform.machine(), "questions": options.questions if options else "",
        "requests": kinds, "error_kinds": {str(e.error)[:200]: e.occurrences for e in stats.errors.values()},
        "ingest": _state["ingest"] or None,
    }
    print(json.dumps(summary, indent=2))
    if options and options.report:
        Path(options.report).write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
