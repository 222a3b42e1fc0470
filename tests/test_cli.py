"""`newsdesk ingest` and `newsdesk status` as a user runs them: real processes, a temp data dir."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rag.pipeline import BUNDLED_CORPUS

pytestmark = pytest.mark.integration


def newsdesk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed console script with the test's environment (temp data dir, no stray settings)."""
    script = Path(sys.executable).with_name("newsdesk")
    if not script.is_file():
        pytest.fail(f"the newsdesk console script is not installed next to {sys.executable}; run `make install`")
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr


@pytest.mark.slow
def test_ingest_bundled_corpus_then_status_then_nothing_to_embed(tmp_path: Path) -> None:
    first = newsdesk("ingest", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["added"], report["rejected"], report["exit_code"]) == (1, [], 0)
    assert report["chunks_embedded"] == report["chunks_written"] > 0

    status = newsdesk("status", "--json")
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["articles"] == 1 and state["chunks"] == report["chunks_written"]
    assert state["embedder"] == "all-MiniLM-L6-v2-onnx-int8"
    assert Path(state["data_dir"]) == tmp_path / "data"
    assert state["last_ingest"]

    again = newsdesk("ingest", "--json")
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert (second["chunks_embedded"], second["unchanged"], second["added"]) == (0, 1, 0)


def test_ingest_missing_path_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "path"
    result = newsdesk("ingest", "--quiet", str(missing))
    assert result.returncode == 1
    assert f"rejected: {missing}: no such file or folder; check the path" in result.stderr
    assert "added 0" in result.stdout and "rejected 1" in result.stdout
    _no_traceback(result)


def test_partly_rejected_ingest_exits_3_and_lists_what_and_why(tiny_corpus: Path) -> None:
    (tiny_corpus / "empty.txt").write_bytes(b"")
    (tiny_corpus / "notes.docx").write_bytes(b"PK\x03\x04")
    result = newsdesk("ingest", "--quiet", str(tiny_corpus))
    assert result.returncode == 3
    assert "rejected: empty.txt: empty: no text to index" in result.stderr
    assert "note: notes.docx: skipped: not .txt, .md, .html or .jsonl" in result.stderr
    assert "added 6" in result.stdout and "rejected 1" in result.stdout
    _no_traceback(result)


def test_status_before_any_ingest_says_what_to_do() -> None:
    result = newsdesk("status")
    assert result.returncode == 0
    assert "articles    0" in result.stdout
    assert "run `newsdesk ingest PATH`" in result.stdout


@pytest.mark.slow
def test_changed_chunking_is_refused_until_rebuild(tiny_corpus: Path) -> None:
    assert newsdesk("ingest", "--quiet", str(tiny_corpus)).returncode == 0
    refused = newsdesk("ingest", "--quiet", str(tiny_corpus), env={"NEWSDESK_CHUNK_TOKENS": "64"})
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: The index in ")
    assert "Run `newsdesk ingest --rebuild`" in refused.stderr
    _no_traceback(refused)
    rebuilt = newsdesk("ingest", "--json", "--rebuild", str(tiny_corpus), env={"NEWSDESK_CHUNK_TOKENS": "64"})
    assert rebuilt.returncode == 0, rebuilt.stderr
    report = json.loads(rebuilt.stdout)
    assert report["added"] == 0 and report["updated"] + report["reindexed"] == 6
    status = newsdesk("status", "--json", env={"NEWSDESK_CHUNK_TOKENS": "64"})
    assert json.loads(status.stdout)["chunking"] == "cl100k:64/40:sentences:title"


def test_a_bad_setting_is_named_without_a_traceback() -> None:
    result = newsdesk("status", env={"NEWSDESK_CHUNK_TOKENS": "5"})
    assert result.returncode == 1
    assert "NEWSDESK_CHUNK_TOKENS" in result.stderr and "Fix the environment variable or .env entry" in result.stderr
    _no_traceback(result)


def test_python_dash_m_rag_is_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ui", "status", "--json"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["articles"] == 0


def test_the_bundled_corpus_is_one_article() -> None:
    files = [p for p in BUNDLED_CORPUS.iterdir() if not p.name.startswith(".")]
    assert len(files) == 1 and files[0].suffix == ".txt"


def test_ask_as_of_a_date_favours_that_weeks_article_and_rejects_a_non_date(tmp_path: Path) -> None:
    text = "The city council voted to close the old bridge for repairs, officials said."
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in [
        {"id": "june", "title": "Council closes bridge", "published_at": "2022-06-14", "text": text},
        {"id": "march", "title": "Council closes bridge", "published_at": "2022-03-02", "text": text + " "},
    ]) + "\n", "utf-8")
    assert newsdesk("ingest", "--quiet", str(feed)).returncode == 0
    for as_of, first in (("2022-06-16", "june"), ("2022-03-05", "march")):
        result = newsdesk("ask", "Why was the old bridge closed?", "--as-of", as_of, "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["passages"][0]["article_id"] == first
    bad = newsdesk("ask", "Why was the old bridge closed?", "--as-of", "last week")
    assert bad.returncode == 1 and "--as-of 'last week' is not a date: use YYYY-MM-DD" in bad.stderr
    _no_traceback(bad)


def test_an_offline_answer_prints_one_number_per_cited_article() -> None:
    assert newsdesk("ingest", "--quiet").returncode == 0  # the bundled article: one article, several passages
    question = "Which company is lobbying the White House to ease export controls?"
    cited = json.loads(newsdesk("ask", question, "--json").stdout)["citations"]
    assert cited and {c["article_id"] for c in cited} == {cited[0]["article_id"]}
    result = newsdesk("ask", question)
    assert result.returncode == 0, result.stderr
    answer, sources = result.stdout.split("\nSources:\n")
    assert re.findall(r"\[(\d+)\]", answer) and set(re.findall(r"\[(\d+)\]", answer)) == {"1"}
    [entry] = [line for line in sources.splitlines() if line.startswith("[")]
    assert entry.startswith("[1] ")  # the JSON keeps passage numbers; the printed answer numbers articles
    assert all(f'"{c["quote"]}"' in sources for c in cited)  # every quote listed under its article
    _no_traceback(result)


def test_a_refusal_lists_a_headline_only_link_with_its_address(tmp_path: Path) -> None:
    link = "https://news.example/travel/article/eiffel-tower-paris-needs-repairs/index.html"
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in [
        {"url": link, "text": ""},
        {"url": "https://news.example/2022/07/01/rust", "title": "Paris landmark rusting",
         "text": "The Eiffel Tower is riddled with rust and needs repairs, a report says. A repaint is overdue."},
    ]) + "\n", "utf-8")
    ingest = newsdesk("ingest", "--quiet", str(feed))
    assert ingest.returncode == 0, ingest.stderr
    assert "no text: indexed by its headline ('Eiffel tower paris needs repairs')" in ingest.stderr

    result = newsdesk("ask", "What happened to the Louvre pyramid?")
    assert result.returncode == 0, result.stderr
    assert "I couldn't find that in the articles." in result.stdout
    assert (f"Eiffel tower paris needs repairs: Headline only: no text was stored for this page; open its link "
            f"to read it. {link}") in result.stdout
    _no_traceback(result)
