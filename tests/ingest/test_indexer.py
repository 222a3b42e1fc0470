"""Ingest end to end with real files, the real embedder and Chroma on tmp_path: bad inputs, incremental
re-ingest, prune, embedder/chunking mismatch and --rebuild, and the BM25 index kept in step."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.chunking import chunk_article
from ingest.indexer import Indexer, ingest_lock
from ingest.sources import Note, Rejected, read_paths
from rag.errors import IndexMismatchError, StoreError
from rag.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_PARTLY_REJECTED
from rag.pipeline import Pipeline, build_pipeline
from rag.records import Article
from rag.settings import Settings
from rag.tokens import count_tokens
from tests.conftest import IngestPaths

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"
GOOD = (
    "Bridge reopens after repairs\n\nThe Elm Street bridge reopened to traffic on Friday after six months of repairs."
)


def _stored_ids(pipeline: Pipeline) -> set[str]:
    return set(pipeline.store.article_paths())


def _chunk_article_ids(pipeline: Pipeline) -> list[str]:
    return [c.article_id for c in pipeline.store.iter_chunks()]


def _folder_with_good_file(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, "utf-8")
    return folder


# --- a clean first ingest -------------------------------------------------------------------------------
def test_first_ingest_stores_chunks_texts_and_provenance(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path
) -> None:
    report = ingest_paths(tiny_corpus)
    assert (report.added, report.updated, report.unchanged, report.removed) == (6, 0, 0, 0)
    assert report.rejected == [] and report.exit_code == EXIT_OK
    assert report.chunks_embedded == report.chunks_written > 0
    assert pipeline.store.counts() == (6, report.chunks_written)

    # The full text is kept for citations, and every chunk's offsets quote it exactly.
    originals = {a.id: a for a in read_paths([tiny_corpus]) if isinstance(a, Article)}
    for chunk in pipeline.store.iter_chunks():
        stored = pipeline.store.get_article(chunk.article_id)
        assert stored is not None and stored.text == originals[chunk.article_id].text
        assert stored.text[chunk.start : chunk.end] == chunk.text
    council = pipeline.store.get_article("council.md")
    assert council is not None
    assert (council.title, council.published_at, council.source) == (
        "City council approves bike lanes on Main Street",
        "2022-03-14",
        "Springfield Herald",
    )
    assert council.authors == ("Dana Whitfield", "Luis Ortega")

    info = pipeline.store.info()
    assert (info["embedder"], info["dimension"], info["chunking"]) == (
        pipeline.embedder.id,
        384,
        pipeline.store.chunking,
    )
    assert info["last_ingest"]

    # Vectors are ours (MiniLM), not Chroma's default function: a MiniLM query finds the right article.
    [best] = pipeline.store.query(pipeline.embedder.embed_query("storm leaves homes without electricity"), 1)
    assert best.chunk.article_id == "storm.html"


def test_progress_reports_articles_and_chunks(pipeline: Pipeline, tiny_corpus: Path) -> None:
    calls: list[tuple[int, int]] = []
    indexer = Indexer(pipeline.settings, pipeline.embedder, pipeline.store, pipeline.lexical)
    report = indexer.run([tiny_corpus], progress=lambda a, c: calls.append((a, c)))
    assert calls and calls[-1] == (6, report.chunks_embedded)


def test_a_second_ingest_at_the_same_time_is_refused(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path
) -> None:
    with ingest_lock(pipeline.settings.data_dir), pytest.raises(StoreError, match="Another `newsdesk ingest`"):
        ingest_paths(tiny_corpus)


# --- bad input never stops the batch -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty: no text to index"),
        ("blank.md", b"  \n\n\t  \n", "empty: no text to index"),
        ("picture.txt", PNG, "binary file, not text"),
        ("nothing.jsonl", b"\n\n", "empty: no article lines"),
        ("bad-utf16.txt", b"\xff\xfe\x00\xd8", "binary file, not text (bad UTF-16)"),
    ],
    ids=["empty", "whitespace-only", "binary", "empty-jsonl", "broken-utf16"],
)
def test_rejected_file_is_reported_and_the_good_one_beside_it_goes_in(
    pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    folder = _folder_with_good_file(tmp_path)
    (folder / name).write_bytes(data)
    report = ingest_paths(folder)
    assert report.rejected == [Rejected(name, reason)]
    assert report.added == 1 and _stored_ids(pipeline) == {"good.txt"}
    assert report.exit_code == EXIT_PARTLY_REJECTED == 3


@pytest.mark.parametrize(
    ("data", "note", "expected_text"),
    [
        (
            "Café owners protest – “unfair” rents\n".encode("cp1252"),
            "not UTF-8; decoded as Windows-1252",
            "Café owners protest – “unfair” rents\n",
        ),
        (
            b"Caf\xe9 \x81 survives\n",
            "not UTF-8; undecodable bytes replaced with U+FFFD",
            "Caf\ufffd \ufffd survives\n",
        ),
    ],
    ids=["cp1252", "undecodable"],
)
def test_non_utf8_text_is_decoded_and_the_note_says_how(
    pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path, data: bytes, note: str, expected_text: str
) -> None:
    folder = _folder_with_good_file(tmp_path)
    (folder / "legacy.txt").write_bytes(data)
    report = ingest_paths(folder)
    assert report.notes == [Note("legacy.txt", note)]
    assert report.rejected == [] and report.exit_code == EXIT_OK
    stored = pipeline.store.get_article("legacy.txt")
    assert stored is not None and stored.text == expected_text
    assert _stored_ids(pipeline) == {"good.txt", "legacy.txt"}


def test_malformed_jsonl_lines_are_reported_as_file_and_line_and_the_rest_goes_in(
    pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path
) -> None:
    folder = _folder_with_good_file(tmp_path)
    (folder / "feed.jsonl").write_text(
        "\n".join(
            [
                '{"id": "a1", "text": "Ferry service resumes after the strike ended."}',
                '{"id": "a2", "text": "unterminated',
                '{"id": "a3", "text": "Library extends opening hours on weekends."}',
                "[1, 2, 3]",
                '{"id": "a5", "title": "No body"}',
                '{"id": "a6", "text": "   "}',
                '{"id": "a7", "text": "Council delays vote on new stadium."}',
            ]
        ),
        "utf-8",
    )
    report = ingest_paths(folder)
    where = {r.where: r.reason for r in report.rejected}
    assert sorted(where) == ["feed.jsonl:2", "feed.jsonl:4", "feed.jsonl:5", "feed.jsonl:6"]
    assert where["feed.jsonl:2"].startswith("malformed JSON (Unterminated string")
    assert where["feed.jsonl:4"].startswith("not a JSON object")
    assert where["feed.jsonl:5"] == where["feed.jsonl:6"] == (
        "no 'text' (a non-empty string, or a 'url' whose page has a headline, is required)"
    )
    assert _stored_ids(pipeline) == {"good.txt", "a1", "a3", "a7"}
    assert report.exit_code == EXIT_PARTLY_REJECTED


def test_unknown_extension_is_skipped_with_a_note(
    pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path
) -> None:
    folder = _folder_with_good_file(tmp_path)
    (folder / "minutes.pdf").write_bytes(b"%PDF-1.7\n")
    (folder / "data.csv").write_text("a,b\n1,2\n", "utf-8")
    report = ingest_paths(folder)
    assert report.notes == [
        Note("data.csv", "skipped: not .txt, .md, .html or .jsonl"),
        Note("minutes.pdf", "skipped: not .txt, .md, .html or .jsonl"),
    ]
    assert report.rejected == [] and report.exit_code == EXIT_OK
    assert _stored_ids(pipeline) == {"good.txt"}


def test_missing_path_beside_a_good_one_is_partly_rejected(
    pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path
) -> None:
    folder = _folder_with_good_file(tmp_path)
    report = ingest_paths(folder, tmp_path / "no-such-folder")
    assert report.rejected == [Rejected(str(tmp_path / "no-such-folder"), "no such file or folder; check the path")]
    assert report.exit_code == EXIT_PARTLY_REJECTED
    assert _stored_ids(pipeline) == {"good.txt"}


def test_only_a_missing_path_does_nothing_and_loses_nothing(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, tmp_path: Path
) -> None:
    ingest_paths(tiny_corpus)
    before = (pipeline.store.counts(), sorted(c.id for c in pipeline.store.iter_chunks()))
    report = ingest_paths(tmp_path / "typo", prune=True)
    assert report.exit_code == EXIT_ERROR == 1
    assert report.rejected[0].reason == "no such file or folder; check the path"
    assert (pipeline.store.counts(), sorted(c.id for c in pipeline.store.iter_chunks())) == before


def test_duplicate_ids_keep_the_first_and_report_the_second(
    pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path
) -> None:
    folder = _folder_with_good_file(tmp_path)
    (folder / "a.jsonl").write_text('{"id": "dup-1", "text": "The first copy of the story."}\n', "utf-8")
    (folder / "b.jsonl").write_text(
        '{"id": "dup-1", "text": "A second, different story with the same id."}\n'
        '{"id": "unique-2", "text": "Another story entirely."}\n',
        "utf-8",
    )
    report = ingest_paths(folder)
    assert [(r.where, r.reason) for r in report.rejected] == [
        ("dup-1", f"duplicate article id (also in {folder / 'a.jsonl'}); kept the first")
    ]
    stored = pipeline.store.get_article("dup-1")
    assert stored is not None and stored.text == "The first copy of the story."
    assert _stored_ids(pipeline) == {"good.txt", "dup-1", "unique-2"}
    assert report.exit_code == EXIT_PARTLY_REJECTED


# --- incremental re-ingest -----------------------------------------------------------------------------
def test_unchanged_articles_are_not_embedded_again(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path
) -> None:
    first = ingest_paths(tiny_corpus)
    generation = pipeline.store.info()["generation"]
    again = ingest_paths(tiny_corpus)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 6)
    assert again.chunks_embedded == 0 and again.chunks_written == 0
    assert pipeline.store.counts() == (6, first.chunks_written)
    # Nothing changed, so readers keep their BM25 index (the generation did not move).
    assert pipeline.store.info()["generation"] == generation


def _long_article(paragraphs: int, last: str) -> str:
    body = [
        f"Paragraph {n}: the harbour authority published figures on cargo, ferries and fishing boats, "
        f"and the mayor answered questions from residents of district {n} about traffic near the quay."
        for n in range(paragraphs)
    ]
    return "Harbour report\n\n" + "\n\n".join([*body, last]) + "\n"


def test_a_changed_article_replaces_its_old_chunks(
    pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path, settings: Settings
) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "harbour.txt").write_text(_long_article(12, "The quay reopens in May."), "utf-8")
    (folder / "other.txt").write_text(GOOD, "utf-8")
    ingest_paths(folder)
    old_ids = pipeline.store.chunk_ids_of(["harbour.txt"])["harbour.txt"]
    assert len(old_ids) >= 3

    (folder / "harbour.txt").write_text(_long_article(12, "The quay reopens in September, four months late."), "utf-8")
    report = ingest_paths(folder)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    [article] = [a for a in read_paths([folder / "harbour.txt"]) if isinstance(a, Article)]
    expected = chunk_article(article, settings.chunk_tokens, settings.chunk_overlap, pipeline.embedder.fits)
    new_ids = pipeline.store.chunk_ids_of(["harbour.txt"])["harbour.txt"]
    assert new_ids == {c.id for c in expected}
    assert old_ids - new_ids  # the chunk with the old last paragraph is gone...
    assert not any("reopens in May" in c.text for c in pipeline.store.iter_chunks())
    # ...while chunks whose text did not change were kept without embedding them again.
    assert 0 < report.chunks_embedded < len(expected) == report.chunks_written
    assert pipeline.store.counts() == (2, len(expected) + 1)
    stored = pipeline.store.get_article("harbour.txt")
    assert stored is not None and "four months late" in stored.text


def test_a_metadata_only_change_updates_chunks_without_embedding(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path
) -> None:
    ingest_paths(tiny_corpus)
    feed = tiny_corpus / "wire.jsonl"
    feed.write_text(
        feed.read_text("utf-8").replace('"published_at": "2022/06/15"', '"published_at": "2022-06-16"'), "utf-8"
    )
    report = ingest_paths(tiny_corpus)
    assert (report.updated, report.unchanged, report.chunks_embedded) == (1, 5, 0)
    [chunk] = [c for c in pipeline.store.iter_chunks() if c.article_id == "wire-001"]
    assert chunk.published_at == "2022-06-16"
    stored = pipeline.store.get_article("wire-001")
    assert stored is not None and stored.published_at == "2022-06-16"


def test_a_shrunk_article_leaves_no_stale_chunks(pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "harbour.txt").write_text(_long_article(12, "End."), "utf-8")
    ingest_paths(folder)
    (folder / "harbour.txt").write_text("Harbour report\n\nThe report was withdrawn.\n", "utf-8")
    report = ingest_paths(folder)
    assert report.updated == 1
    assert pipeline.store.counts() == (1, 1)
    assert [c.text for c in pipeline.store.iter_chunks()] == ["Harbour report\n\nThe report was withdrawn."]


def test_removed_files_stay_without_prune_and_go_with_it(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path
) -> None:
    ingest_paths(tiny_corpus)
    (tiny_corpus / "council.md").unlink()
    (tiny_corpus / "wire.jsonl").write_text(
        "\n".join(
            line for line in (tiny_corpus / "wire.jsonl").read_text("utf-8").splitlines() if "wire-002" not in line
        ),
        "utf-8",
    )
    kept = ingest_paths(tiny_corpus)
    assert kept.removed == 0 and len(_stored_ids(pipeline)) == 6

    pruned = ingest_paths(tiny_corpus, prune=True)
    assert pruned.removed == 2 and pruned.exit_code == EXIT_OK
    assert _stored_ids(pipeline) == {"ports.txt", "storm.html", "wire-001", "wire-003"}
    assert pipeline.store.get_article("council.md") is None
    assert set(_chunk_article_ids(pipeline)) == {"ports.txt", "storm.html", "wire-001", "wire-003"}
    assert len(pipeline.lexical) == pipeline.store.counts()[1]


def test_prune_never_removes_articles_of_a_file_that_failed_to_read(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_paths(tiny_corpus)
    chunks_before = pipeline.store.counts()[1]
    unreadable = tiny_corpus / "ports.txt"
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == unreadable:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    # Running as root defeats chmod 000, so the read failure is injected where the reader reads.
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    (tiny_corpus / "storm.html").write_bytes(PNG)  # now rejected as binary: also must not cost the stored copy
    (tiny_corpus / "wire.jsonl").write_text(
        (tiny_corpus / "wire.jsonl").read_text("utf-8").replace('"id": "wire-002"', '"id": "wire-002", oops'), "utf-8"
    )
    report = ingest_paths(tiny_corpus, prune=True)
    assert {r.where: r.reason for r in report.rejected} == {
        "ports.txt": "cannot read: Permission denied",
        "storm.html": "binary file, not text",
        "wire.jsonl:2": report.rejected[-1].reason,
    }
    assert report.rejected[-1].reason.startswith("malformed JSON")
    assert report.removed == 0 and report.exit_code == EXIT_PARTLY_REJECTED
    assert len(_stored_ids(pipeline)) == 6
    assert pipeline.store.counts()[1] == chunks_before
    storm = pipeline.store.get_article("storm.html")
    assert storm is not None and "40,000 homes" in storm.text


def test_prune_only_touches_the_paths_given(pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
        (folder / f"{folder.name}.txt").write_text(
            f"Story {folder.name}\n\nSomething happened in {folder.name}.", "utf-8"
        )
    ingest_paths(one)
    ingest_paths(two)
    (two / "two.txt").unlink()
    report = ingest_paths(one, prune=True)
    assert report.removed == 0 and _stored_ids(pipeline) == {"one.txt", "two.txt"}
    report = ingest_paths(two, prune=True)
    assert report.removed == 1 and _stored_ids(pipeline) == {"one.txt"}


def test_a_moved_folder_is_not_re_embedded_and_prune_follows_it(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, tmp_path: Path
) -> None:
    ingest_paths(tiny_corpus)
    moved = tmp_path / "archive" / "corpus"  # same folder name, so the same ids and sources
    moved.parent.mkdir()
    shutil.move(tiny_corpus, moved)
    report = ingest_paths(moved, prune=True)
    assert (report.unchanged, report.removed, report.chunks_embedded) == (6, 0, 0)
    assert pipeline.store.article_paths(["storm.html"]) == {"storm.html": str(moved / "storm.html")}

    (moved / "storm.html").unlink()
    report = ingest_paths(moved, prune=True)
    assert report.removed == 1 and pipeline.store.get_article("storm.html") is None


# --- embedder / chunking mismatch and --rebuild --------------------------------------------------------
def test_changed_chunking_is_refused_then_rebuilt_from_stored_texts(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, tmp_path: Path
) -> None:
    shutil.copy(tiny_corpus / "ports.txt", tiny_corpus / "ports-long.txt")
    (tiny_corpus / "ports-long.txt").write_text(_long_article(10, "Last paragraph."), "utf-8")
    first = ingest_paths(tiny_corpus)
    smaller = build_pipeline(
        Settings(data_dir=tmp_path / "data", chunk_tokens=64, chunk_overlap=8), embedder=pipeline.embedder
    )

    with pytest.raises(IndexMismatchError) as refused:
        ingest_paths(tiny_corpus, using=smaller)
    message = str(refused.value)
    assert "newsdesk ingest --rebuild" in message
    assert "cl100k:200/40" in message and "cl100k:64/8" in message
    assert pipeline.store.counts() == (7, first.chunks_written)  # refusing changed nothing

    shutil.rmtree(tiny_corpus)  # the original files are gone: only the stored texts remain
    report = ingest_paths(using=smaller, rebuild=True)
    assert report.reindexed == 7 and report.rejected == [] and report.exit_code == EXIT_OK
    articles, chunks = smaller.store.counts()
    assert articles == 7 and chunks == report.chunks_written == report.chunks_embedded > first.chunks_written
    assert smaller.store.info()["chunking"] == "cl100k:64/8:sentences:title"
    for chunk in smaller.store.iter_chunks():
        stored = smaller.store.get_article(chunk.article_id)
        assert stored is not None and stored.text[chunk.start : chunk.end] == chunk.text
        assert count_tokens(chunk.text) <= 64 + 2
    assert len(smaller.lexical) == chunks
    assert ingest_paths(using=smaller).chunks_embedded == 0  # and it is now in step


def test_rebuild_with_unchanged_settings_re_embeds_everything_and_loses_nothing(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path
) -> None:
    first = ingest_paths(tiny_corpus)
    ids = sorted(c.id for c in pipeline.store.iter_chunks())
    report = ingest_paths(tiny_corpus, rebuild=True)
    assert report.chunks_embedded == first.chunks_written
    assert report.updated + report.reindexed == 6
    assert sorted(c.id for c in pipeline.store.iter_chunks()) == ids  # same content, same ids
    assert pipeline.store.counts() == (6, first.chunks_written)
    assert len(pipeline.lexical) == first.chunks_written


# --- BM25 in step with the store -----------------------------------------------------------------------
def test_bm25_is_in_step_after_ingest_and_after_a_restart(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, settings: Settings
) -> None:
    ingest_paths(tiny_corpus)
    chunks = pipeline.store.counts()[1]
    generation = pipeline.store.info()["generation"]
    assert len(pipeline.lexical) == chunks and pipeline.lexical.generation == generation
    [(top, _)] = pipeline.lexical.search("Rotterdam containers", 1)
    assert pipeline.store.get_chunks([top])[top][0].article_id == "ports.txt"

    restarted = build_pipeline(settings, embedder=pipeline.embedder)  # a new process: empty in memory, loads from disk
    assert len(restarted.lexical) == 0
    assert restarted.lexical.load() and restarted.lexical.generation == generation
    lexical = restarted.fresh_lexical()
    assert len(lexical) == chunks
    [(again, _)] = lexical.search("Rotterdam containers", 1)
    assert again == top


def test_a_reader_picks_up_another_process_ingest(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, settings: Settings
) -> None:
    ingest_paths(tiny_corpus)
    reader = build_pipeline(settings, embedder=pipeline.embedder)
    assert reader.fresh_lexical().search("lighthouse keeper", 3) == []
    (tiny_corpus / "lighthouse.txt").write_text(
        "Last lighthouse keeper retires\n\nThe last lighthouse keeper on the island retired after 40 years.", "utf-8"
    )
    ingest_paths(tiny_corpus)  # the writer is another Pipeline
    hits = reader.fresh_lexical().search("lighthouse keeper", 3)
    assert hits and reader.store.get_chunks([hits[0][0]])[hits[0][0]][0].article_id == "lighthouse.txt"
    assert len(reader.lexical) == reader.store.counts()[1]


def test_a_lost_bm25_index_is_rebuilt(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, settings: Settings
) -> None:
    ingest_paths(tiny_corpus)
    chunks = pipeline.store.counts()[1]
    shutil.rmtree(settings.lexical_dir)
    report = ingest_paths(tiny_corpus)  # nothing to embed, but the index on disk is rebuilt
    assert report.chunks_embedded == 0
    assert (settings.lexical_dir / "newsdesk.json").is_file()
    shutil.rmtree(settings.lexical_dir)
    reader = build_pipeline(settings, embedder=pipeline.embedder)
    assert len(reader.fresh_lexical()) == chunks  # a reader rebuilds it from the store, too
