"""`newsdesk eval` end to end (real embedder, real Chroma), and the benchmark command on a miniature RTQA."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eval import benchmark

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "eval" / "questions" / "bundled.jsonl"
KEYS = ("n_questions", "answer_accuracy", "refusal_accuracy", "false_refusals", "recall_at_1", "recall_at_5",
        "recall_at_10", "mrr_at_10", "citation_validity", "p50_ms", "p95_ms", "grounded_sentences",
        "unsupported_sentences")


def newsdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ui", *args], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ), check=False)


def test_eval_json_prints_only_the_summary_of_the_bundled_set(tmp_path: Path) -> None:
    assert newsdesk("ingest", "--quiet").returncode == 0  # the bundled corpus into NEWSDESK_DATA_DIR
    done = newsdesk("eval", "--questions", str(BUNDLED), "--json", "--report", str(tmp_path / "report"))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # stdout is exactly one JSON object
    assert set(KEYS) <= set(summary)
    assert summary["n_questions"] == 37 and summary["n_answerable"] == 27 and summary["n_unanswerable"] == 10
    assert summary["recall_at_1"] == 1.0 and summary["mrr_at_10"] == 1.0  # one article: it is always first
    assert summary["citation_validity"] == 1.0  # extractive quotes are verbatim by construction
    assert 0.5 <= summary["answer_accuracy"] <= 1.0
    for key in ("refusal_accuracy", "false_refusals"):
        assert 0.0 <= summary[key] <= 1.0
    assert summary["grounded_sentences"] is None and summary["unsupported_sentences"] is None  # offline run
    assert 0 < summary["p50_ms"] <= summary["p95_ms"]
    assert "baseline" not in summary and summary["errors"] == 0

    data = json.loads((tmp_path / "report" / "report.json").read_text("utf-8"))
    assert data["summary"] == summary and len(data["rows"]) == 37
    row = next(r for r in data["rows"] if r["id"] == "bundled-a12")  # "Which company has invested heavily…"
    assert row["retrieved"][0] == "000_78dbcec5bdb2f3cc.txt" and row["rank"] == 1
    assert row["citations"] and all(c["valid"] for c in row["citations"])
    assert row["correct"] is ("amazon" in row["answer"].lower())


def _meta(report: Path) -> dict[str, Any]:
    return dict(json.loads((report / "report.json").read_text("utf-8"))["meta"])


def test_corpus_and_baseline_rerun_costs_only_the_questions(tmp_path: Path) -> None:
    report = tmp_path / "r"
    args = ("eval", "--questions", str(BUNDLED), "--corpus", str(REPO / "corpus"), "--report", str(report),
            "--baseline", "--limit", "12")
    first = newsdesk(*args)
    assert first.returncode == 0, first.stderr
    assert "newsdesk" in first.stdout and "baseline" in first.stdout and "Recall@10" in first.stdout
    meta = _meta(report)
    assert meta["ingest"]["added"] == 1 and meta["baseline_index"]["embedded"] > 0
    assert (report / "store" / "chroma").is_dir() and (report / "store" / "baseline").is_dir()

    again = newsdesk(*args, "--json")
    assert again.returncode == 0, again.stderr
    meta = _meta(report)
    assert meta["ingest"]["unchanged"] == 1 and meta["ingest"]["chunks_embedded"] == 0
    assert meta["baseline_index"]["reused"] and meta["baseline_index"]["embedded"] == 0
    summary = json.loads(again.stdout)
    base = summary["baseline"]
    assert summary["n_questions"] == base["n_questions"] == 12
    assert base["refusal_accuracy"] is None and base["false_refusals"] == 0.0  # the baseline never refuses
    assert base["citation_validity"] is None and base["recall_at_1"] == 1.0

    markdown = (report / "report.md").read_text("utf-8")
    assert markdown.index("## Summary") < markdown.index("## Failures") < markdown.index("## Correct")
    assert "| metric | newsdesk | baseline |" in markdown


def test_bad_question_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "Q?", "answer": "x"}\n{"id": "b"}\n', "utf-8")
    done = newsdesk("eval", "--questions", str(bad))
    assert done.returncode == 1 and f"{bad}:2:" in done.stderr and "'question'" in done.stderr


def test_benchmark_on_a_miniature_realtimeqa(tmp_path: Path) -> None:
    data = tmp_path / "rtqa"
    data.mkdir()
    articles = [
        ("http://www.wire.example/2022/06/rates/index.html", "The central bank raised its benchmark interest "
         "rate by half a percentage point on Wednesday, its largest increase in two decades."),
        ("https://www.wire.example/2022/06/bronzes/", "The museum returned 31 looted bronze sculptures to "
         "Nigeria in a ceremony on Saturday."),
        ("https://www.wire.example/2022/06/wheat", "A prolonged drought has cut the regional wheat harvest by "
         "a third, farmers said, pushing bread prices higher."),
    ]
    (data / "articles-gold.jsonl").write_text(
        "".join(json.dumps({"id": url, "url": url, "title": "", "authors": [], "published_at": "2022/06/15",
                            "text": text}) + "\n" for url, text in articles), "utf-8")
    questions = [
        ("Which country did the museum return looted bronze sculptures to this week?", "Nigeria",
         "https://wire.example/2022/06/bronzes#:~:text=The%20museum"),
        ("By how much did the central bank raise its benchmark rate?", "half a percentage point",
         "https://www.wire.example/2022/06/rates/index.html"),
    ]
    (data / "questions.jsonl").write_text(
        "".join(json.dumps({"id": f"rtqa-{i}", "question": q, "answer": a, "answerable": True, "sources": [s],
                            "asked_on": "2022/06/16", "choices": [a, "other"]}) + "\n"
                for i, (q, a, s) in enumerate(questions)), "utf-8")

    code = benchmark.main(["--variant", "gold", "--data", str(data), "--store-root", str(tmp_path / "stores"),
                           "--out", str(tmp_path / "out"), "--limit", "2", "--quiet"])
    assert code == 0
    date = datetime.now(UTC).date().isoformat()
    report = tmp_path / "out" / f"realtimeqa-gold-{date}-limit2"
    saved = json.loads((report / "report.json").read_text("utf-8"))
    meta, summary = saved["meta"], saved["summary"]
    assert meta["git_commit"] and "CPU cores" in meta["machine"] and meta["cpu_cores"] >= 1
    assert meta["asked_on_passed"] and meta["articles"] == 3
    assert not meta["corpus"].startswith("/") and meta["corpus"].endswith("articles-gold.jsonl")
    assert [r["asked_on"] for r in saved["rows"]] == ["2022-06-16", "2022-06-16"]
    assert summary["n_questions"] == 2 and summary["recall_at_10"] == 1.0  # url sources matched despite fragments
    assert saved["baseline"]["summary"]["recall_at_10"] == 1.0
    assert (tmp_path / "stores" / "gold" / "chroma").is_dir()
    assert "RealTime QA 2022" in (report / "report.md").read_text("utf-8")
