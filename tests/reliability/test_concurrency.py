"""Twenty askers share one `Pipeline` while an ingest adds articles through the same pipeline's store.

Nothing fails, every answer about an article that was in before the ingest started is right, and afterwards the
store is whole (counts, chunk ids, BM25 in step, no orphans). Two browser sessions keeping their conversations
apart is `tests/ui/test_browser.py::test_seed_question_follow_up_and_separate_sessions`.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.indexer import Indexer, IngestReport
from rag.lexical import LexicalIndex
from rag.pipeline import BUNDLED_CORPUS, Pipeline
from rag.records import Answer, Chunk
from tests.conftest import IngestPaths
from tests.reliability.conftest import (
    SEED_QUESTION,
    TOWNS,
    PipelineOn,
    forget_chroma_clients,
    newsdesk,
    snapshot,
    write_towns,
)

pytestmark = pytest.mark.integration

ASKERS = 20
TOWN_QUESTIONS = [f"How many local workers did the {town} project employ?" for town in TOWNS[:4]]
MIN_QUESTIONS = 3  # each asker keeps asking until the ingest is over, and at least this often


@dataclass(frozen=True)
class Asked:
    question: str
    answer: Answer
    started: float
    ended: float


@pytest.mark.slow
def test_twenty_askers_during_an_ingest(
    pipeline: Pipeline, ingest_paths: IngestPaths, pipeline_on: PipelineOn, tmp_path: Path
) -> None:
    ingest_paths(BUNDLED_CORPUS)
    [bundled_id] = pipeline.store.article_paths()
    news = write_towns(tmp_path / "news", [8] * 12)
    start = threading.Barrier(ASKERS + 1)
    ingest_over = threading.Event()
    window: list[float] = []
    reports: list[IngestReport] = []
    errors: list[str] = []
    asked: list[Asked] = []
    lock = threading.Lock()

    def ingest() -> None:
        try:
            start.wait()
            window.append(time.monotonic())
            indexer = Indexer(pipeline.settings, pipeline.embedder, pipeline.store, pipeline.lexical)
            reports.append(indexer.run([news]))
        except Exception:
            errors.append(traceback.format_exc())
        finally:
            window.append(time.monotonic())
            ingest_over.set()

    def ask(n: int) -> None:
        try:
            start.wait()
            i = 0
            while i < MIN_QUESTIONS or not ingest_over.is_set():
                # Mostly the question whose answer must stay right; some about articles arriving meanwhile.
                question = TOWN_QUESTIONS[(n + i) % len(TOWN_QUESTIONS)] if (n + i) % 3 == 2 else SEED_QUESTION
                began = time.monotonic()
                answer = pipeline.answer(question)
                with lock:
                    asked.append(Asked(question, answer, began, time.monotonic()))
                i += 1
        except Exception:
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=ingest, name="ingest")]
    threads += [threading.Thread(target=ask, args=(n,), name=f"asker-{n}") for n in range(ASKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "an asker or the ingest hung"

    assert errors == [], errors[0]
    [report] = reports
    assert report.added == 12 and report.exit_code == 0
    during = [a for a in asked if a.started < window[1] and a.ended > window[0]]
    assert during, "no question overlapped the ingest; the test proved nothing"
    print(f"\n{len(asked)} answers from {ASKERS} threads, {len(during)} of them while the ingest ran")

    seed_answers = [a.answer for a in asked if a.question == SEED_QUESTION]
    assert len(seed_answers) >= ASKERS * 2
    for answer in seed_answers:
        assert not answer.refused and answer.text.startswith("Anthropic"), answer.text
        assert answer.citations and {c.article_id for c in answer.citations} == {bundled_id}
        assert "lobbying" in answer.citations[0].quote

    # The shared pipeline answers from the new articles too, without a restart, and its BM25 view is whole.
    late = pipeline.answer(TOWN_QUESTIONS[1])
    assert not late.refused and late.citations[0].article_id == "01-brenford.txt"
    shared_bm25 = tuple(sorted(pipeline.fresh_lexical().ids))

    # Afterwards, as a new process sees it: counts, chunk ids and BM25 agree, nothing orphaned.
    after = snapshot(pipeline_on, pipeline.settings.data_dir)
    assert after.counts == (13, report.chunks_written + len(after.chunks_of[bundled_id]))
    assert set(after.chunks_of) == after.article_ids
    assert after.bm25_ids == after.chunk_ids == shared_bm25
    assert after.bm25_loaded_in_step and after.orphans == ()


def _chunks(tag: str, n: int) -> list[Chunk]:
    return [Chunk(f"{tag}-{i}", f"{tag}-article", i, f"harbour report {i} from {tag}", 0, 30) for i in range(n)]


def test_bm25_builds_and_loads_at_the_same_time_never_fail_or_mix(tmp_path: Path) -> None:
    """An ingest finishing and a reader catching up both rebuild the BM25 folder (threads here; the lock is a
    file lock, so processes too). Each load sees one whole build, never a mix, and no build fails."""
    directory = tmp_path / "bm25" / "newsdesk"
    sets = {"small": _chunks("small", 20), "large": _chunks("large", 200)}
    errors: list[str] = []
    loads: list[tuple[str, int, set[str]]] = []
    done = threading.Event()

    def build(tag: str) -> None:
        index = LexicalIndex(directory)  # each thread its own object, as each process has
        try:
            for _ in range(25):
                index.build(sets[tag], f"gen-{tag}")
        except Exception:
            errors.append(traceback.format_exc())

    def load() -> None:
        index = LexicalIndex(directory)
        try:
            while not done.is_set():
                if index.load():
                    found = {cid for cid, _ in index.search("harbour report", 500)}
                    loads.append((index.generation, len(index), found))
        except Exception:
            errors.append(traceback.format_exc())

    builders = [threading.Thread(target=build, args=(tag,)) for tag in sets]
    reader = threading.Thread(target=load)
    for thread in [*builders, reader]:
        thread.start()
    for thread in builders:
        thread.join(timeout=120)
    done.set()
    reader.join(timeout=60)

    assert errors == [], errors[0]
    assert loads, "the reader never loaded an index"
    for generation, size, found in loads:
        tag = generation.removeprefix("gen-")
        assert size == len(sets[tag]) and found == {c.id for c in sets[tag]}
    final = LexicalIndex(directory)
    assert final.load() and len(final) == len(sets[final.generation.removeprefix("gen-")])


@pytest.mark.slow
def test_a_reader_process_keeps_answering_while_another_process_adds_and_removes_articles(
    pipeline: Pipeline, ingest_paths: IngestPaths, pipeline_on: PipelineOn, tmp_path: Path
) -> None:
    """The page is one process, `newsdesk ingest` another. Chroma's embedded client keeps its vector index in
    memory, so the reader's dense search does not see the other process's changes until the store is reopened;
    counts and BM25 (rebuilt when the store's generation moves) see them at once. The reader must never fail
    or show a deleted chunk meanwhile, and it answers about the new articles through BM25.
    If the dense assertion below fails, Chroma now refreshes readers: update docs/reliability.md."""
    news = tmp_path / "news"
    news.mkdir()
    gone = "Pier closes for winter\n\nThe Jarrow pier closed for the winter on Friday after storms cracked its deck.\n"
    (news / "pier.txt").write_text(gone, "utf-8")
    ingest_paths(BUNDLED_CORPUS, news)
    assert pipeline.answer("Why did the Jarrow pier close?").citations[0].article_id == "pier.txt"  # reader warm
    (news / "pier.txt").unlink()
    write_towns(news, [8] * 2)

    run = newsdesk("ingest", "--quiet", "--prune", str(news), cwd=tmp_path)  # adds two articles, removes one
    assert run.returncode == 0, run.stderr
    assert "added 2 · updated 0 · unchanged 0 · removed 1" in run.stdout

    assert pipeline.store.counts()[0] == 3
    answer = pipeline.answer(TOWN_QUESTIONS[1])
    assert not answer.refused and answer.citations[0].article_id == "01-brenford.txt"
    for question in ("Why did the Jarrow pier close?", SEED_QUESTION, TOWN_QUESTIONS[0]):
        for passage in pipeline.answer(question).passages:
            assert passage.chunk.article_id in {"01-brenford.txt", "00-aldport.txt", *pipeline.store.article_paths()}
            assert passage.chunk.text and passage.chunk.article_id != "pier.txt"

    [new_chunk] = [c for c in pipeline.store.iter_chunks() if c.article_id == "01-brenford.txt"][:1]
    vector = pipeline.embedder.embed_documents([f"{new_chunk.title}\n{new_chunk.text}"])[0]
    assert new_chunk.id not in {p.chunk.id for p in pipeline.store.query(vector, 3)}, (
        "Chroma now shows other processes' vectors to an open reader: update docs/reliability.md"
    )
    forget_chroma_clients()
    reopened = pipeline_on(pipeline.settings.data_dir)
    assert new_chunk.id in {p.chunk.id for p in reopened.store.query(vector, 3)}
