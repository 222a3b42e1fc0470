"""The bad-input matrix, beyond the cases in `tests/ingest/test_indexer.py` (empty, whitespace-only, binary,
non-UTF-8, malformed JSONL lines, unknown extensions, duplicate ids): a 50 MB file and a 200,000-line JSONL with
bounded memory, duplicate articles under two names, 50 nested folders, symlink loops, endless lines, and
questions that are empty, 10,000 characters or pure punctuation. Each gets a clear message; good input beside
it still goes in."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.sources import Note, Rejected
from rag.errors import InputError
from rag.records import indexed_text
from tests.conftest import IngestPaths
from tests.reliability.conftest import PipelineOn, forget_chroma_clients, newsdesk, no_traceback, town_article

pytestmark = pytest.mark.integration

RSS_LIMIT_MB = 600
GOOD = "Ferry returns to Aldport\n\nThe Aldport ferry resumed sailings on Monday after a two-week strike ended.\n"


def _inbox(tmp_path: Path, name: str = "inbox") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, "utf-8")
    return folder


# --- big files, bounded memory -------------------------------------------------------------------------
@pytest.mark.slow
def test_a_50_mb_text_file_is_refused_without_reading_it(
    tmp_path: Path, record_property: Callable[..., None]
) -> None:
    baseline = newsdesk("ingest", "--quiet", str(_inbox(tmp_path, "plain")), cwd=tmp_path,
                        env={"NEWSDESK_DATA_DIR": str(tmp_path / "plain-data")})
    assert baseline.returncode == 0, baseline.stderr

    folder = _inbox(tmp_path)
    line = "The harbour report runs on and on without ever reaching the end of its very long paragraph. "
    with (folder / "huge.txt").open("w", encoding="utf-8") as out:
        for _ in range(50 * 2**20 // len(line) + 1):
            out.write(line)
    assert (folder / "huge.txt").stat().st_size >= 50 * 2**20

    run = newsdesk("ingest", "--quiet", str(folder), cwd=tmp_path)
    record_property("peak_rss_mb", round(run.peak_rss_mb))
    record_property("baseline_peak_rss_mb", round(baseline.peak_rss_mb))
    print(f"\npeak RSS: {run.peak_rss_mb:.0f} MB with a 50 MB file, {baseline.peak_rss_mb:.0f} MB without")

    assert run.returncode == 3
    assert (
        "rejected: huge.txt: too large for one article (50.0 MB > 5 MB); "
        "split it into one file per article or use .jsonl"
    ) in run.stderr
    assert "added 1 " in run.stdout and "rejected 1" in run.stdout
    no_traceback(run)
    assert run.peak_rss_mb < RSS_LIMIT_MB
    assert run.peak_rss_mb < baseline.peak_rss_mb + 25  # the 50 MB never came into memory


def _malformed(n: int) -> str:
    """Ten kinds of bad line, ~90 bytes each, each naming its line number."""
    kinds = [
        f'{{"id": "bad-{n}", "text": "a story cut off in the middle of line {n} and never clos',
        f'["not", "an", "object", {n}, "but a JSON array that happens to be long enough to matter"]',
        f'{{"id": "bad-{n}", "title": "No body on line {n}", "source": "Example Wire", "url": ""}}',
        f'{{"id": "bad-{n}", "text": "   ", "title": "Only spaces for text on line {n} of the feed"}}',
        f"{{id: bad-{n}, text: JavaScript, not JSON, so the parser stops at the first bare word here}}",
        f'{{"id": "bad-{n}", "text": 12345, "title": "A number where the text should be, line {n}"}}',
        f'{{"id": "bad-{n}", "text": null, "title": "A null where the text should be, on line {n}"}}',
        f'"just a string on line {n}, which is valid JSON but not an article object at all"',
        f'{{"id": "bad-{n}", "text": "trailing comma on line {n}", "title": "oops",}}',
        f'{{"id": "bad-{n}", "text": ["a", "list", "of", "words", "on", "line", "{n}"]}}',
    ]
    return kinds[n % len(kinds)]


@pytest.mark.slow
def test_a_200000_line_jsonl_streams_reports_every_bad_line_and_keeps_the_good_ones(
    tmp_path: Path, pipeline_on: PipelineOn, record_property: Callable[..., None]
) -> None:
    folder = _inbox(tmp_path)
    lines, good_ids, bad_lines, blank_lines = 200_000, [], set(), set()
    with (folder / "feed.jsonl").open("w", encoding="utf-8") as out:
        for number in range(1, lines + 1):
            if number % 20_000 == 7:
                good_ids.append(f"wire-{number}")
                record = {"id": f"wire-{number}", "title": f"Item {number}", "text": f"Council item {number} passed."}
                out.write(json.dumps(record) + "\n")
            elif number % 50_000 == 3:
                blank_lines.add(number)
                out.write("   \n")  # blank lines are not articles and not errors
            else:
                bad_lines.add(number)
                out.write(_malformed(number) + " " * 20 + "\n")
    size_mb = (folder / "feed.jsonl").stat().st_size / 2**20
    assert len(good_ids) == 10 and size_mb > 19

    run = newsdesk("ingest", "--quiet", str(folder), cwd=tmp_path, timeout=600)
    record_property("peak_rss_mb", round(run.peak_rss_mb))
    print(f"\n{size_mb:.1f} MB, {lines:,} lines: peak RSS {run.peak_rss_mb:.0f} MB in {run.seconds:.1f}s")

    assert run.returncode == 3
    reported = re.findall(r"^rejected: feed\.jsonl:(\d+): (.+)$", run.stderr, re.MULTILINE)
    assert {int(n) for n, _ in reported} == bad_lines and len(reported) == len(bad_lines)
    reasons = {reason.split(" (")[0] for _, reason in reported}
    assert reasons == {
        "malformed JSON",
        "not a JSON object; each line must be an article object with a 'text' field",
        "no 'text'",
    }
    assert f"added 11 · updated 0 · unchanged 0 · removed 0 · rejected {len(bad_lines)}" in run.stdout
    no_traceback(run)
    assert run.peak_rss_mb < RSS_LIMIT_MB

    forget_chroma_clients()
    stored = set(pipeline_on(tmp_path / "data").store.article_paths())
    assert stored == {*good_ids, "good.txt"}


# --- duplicates, nesting, loops, endless lines -----------------------------------------------------------
def test_the_same_article_under_two_names_is_kept_with_a_note(
    pipeline_on: PipelineOn, ingest_paths: IngestPaths, tmp_path: Path
) -> None:
    folder = _inbox(tmp_path)
    story = town_article(3, 6)
    (folder / "dunwick.txt").write_text(story, "utf-8")
    (folder / "dunwick-copy.txt").write_text(story, "utf-8")
    report = ingest_paths(folder)
    # Both names stay (either may be what a question's source points at); the user learns they are one story.
    assert report.notes == [Note("dunwick.txt", "same text as dunwick-copy.txt; both are kept")]
    assert report.rejected == [] and report.exit_code == 0 and report.added == 3


def test_fifty_nested_folders_and_symlink_loops(
    pipeline_on: PipelineOn, ingest_paths: IngestPaths, tmp_path: Path
) -> None:
    folder = _inbox(tmp_path)
    deep = folder
    for level in range(50):
        deep = deep / f"level{level:02d}"
    deep.mkdir(parents=True)
    (deep / "deep.txt").write_text("Deep story\n\nA story filed fifty folders down still goes in.\n", "utf-8")
    (folder / "level00" / "back-to-top").symlink_to(folder, target_is_directory=True)  # a loop
    (deep / "up-one").symlink_to(deep.parent, target_is_directory=True)  # another
    (folder / "self.txt").symlink_to(folder / "self.txt")  # a file link to itself
    (folder / "dangling.txt").symlink_to(folder / "gone.txt")

    report = ingest_paths(folder)
    deep_id = "/".join(f"level{level:02d}" for level in range(50)) + "/deep.txt"
    assert set(pipeline_on(tmp_path / "data").store.article_paths()) == {"good.txt", deep_id}
    assert report.rejected == [
        Rejected("dangling.txt", "cannot read: No such file or directory"),
        Rejected("self.txt", "cannot read: Too many levels of symbolic links"),
    ]
    looped = {n.where for n in report.notes if n.message == "folder already read through another link; skipped"}
    assert looped == {"level00/back-to-top", "/".join(f"level{level:02d}" for level in range(50)) + "/up-one"}
    assert report.exit_code == 3


def test_endless_lines_without_sentence_breaks_still_make_chunks_the_embedder_reads_whole(
    pipeline_on: PipelineOn, ingest_paths: IngestPaths, tmp_path: Path
) -> None:
    folder = _inbox(tmp_path)
    words = " ".join(f"word{n} harbour council ferry" for n in range(1500))  # ~30 KB, no full stop
    (folder / "runon.txt").write_text("Run-on\n\n" + words + "\n", "utf-8")
    (folder / "blob.txt").write_text("Blob\n\n" + "QUJDREVGR0g" * 600 + "\n", "utf-8")  # 6.6 KB, no space
    (folder / "cjk.txt").write_text("港口\n\n" + "港口委员会周一批准了新的渡轮时间表" * 120 + "\n", "utf-8")
    report = ingest_paths(folder)
    assert report.rejected == [] and report.added == 4

    pipeline = pipeline_on(tmp_path / "data")
    chunks = list(pipeline.store.iter_chunks())
    for article_id in ("runon.txt", "blob.txt", "cjk.txt"):
        article = pipeline.store.get_article(article_id)
        assert article is not None
        mine = sorted((c for c in chunks if c.article_id == article_id), key=lambda c: c.start)
        assert len(mine) > 1
        for chunk in mine:
            assert article.text[chunk.start : chunk.end] == chunk.text
            assert pipeline.embedder.count_wordpieces(indexed_text(chunk.title, chunk.text)) <= 256
        end = 0
        for chunk in mine:  # nothing but white space is left out between chunks
            assert article.text[end : chunk.start].strip() == ""
            end = max(end, chunk.end)
        assert article.text[end:].strip() == ""


# --- questions -----------------------------------------------------------------------------------------
QUESTIONS = {
    "empty": ("   ", "The question is empty: type a question about your articles."),
    "10000-chars": ("Which harbour reopened? " * 417, "characters long; keep it under 2,000"),
    "punctuation": ("?!… -- ;:, ((( ))) ¿¡ ...", "The question has no words to search for: ask it in words."),
}


@pytest.mark.parametrize("kind", list(QUESTIONS))
def test_unusable_questions_get_a_clear_input_error(kind: str, bundled_store: Path, pipeline_on: PipelineOn) -> None:
    question, message = QUESTIONS[kind]
    with pytest.raises(InputError) as raised:
        pipeline_on(bundled_store).answer(question)
    assert message in str(raised.value)


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(QUESTIONS))
def test_unusable_questions_in_the_cli_exit_1_with_the_message(kind: str, bundled_store: Path, tmp_path: Path) -> None:
    question, message = QUESTIONS[kind]
    run = newsdesk("ask", question, cwd=tmp_path, env={"NEWSDESK_DATA_DIR": str(bundled_store)})
    assert run.returncode == 1
    assert run.stderr.startswith("error: ") and message in run.stderr
    assert run.stdout == ""
    no_traceback(run)
