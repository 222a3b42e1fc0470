"""`newsdesk ingest` killed with SIGKILL at several points, then run again: the store ends exactly as a clean
single ingest leaves it — the same articles, the same chunk ids and counts, the BM25 index in step, no orphans,
and no chunk embedded twice.

The kill points are not timed guesses. Each is a state of the data dir that the test watches for from outside
(nothing in the product knows it is being tested): the store created and embedding under way; the first group of
chunks written (a vector segment appears), when the article records may not be; the first group complete (the
article records' segment appears too); the second group's first write transaction, killed with its journal on
disk or just after it committed. Whatever
instruction the kill actually lands on, the same invariant must hold.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.indexer import Indexer
from rag.embedder import MiniLMEmbedder
from rag.errors import EmptyIndexError
from rag.pipeline import build_pipeline
from rag.settings import Settings
from tests.reliability.conftest import (
    Newsdesk,
    PipelineOn,
    Snapshot,
    clean_environment,
    forget_chroma_clients,
    snapshot,
    write_towns,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Small chunks so a few short articles still make two write groups (the indexer writes ~256 chunks at a time):
# seven ~5 KB articles fill the first group, five short ones make the second.
CHUNKING = {"chunk_tokens": 32, "chunk_overlap": 0}
CHUNK_ENV = {"NEWSDESK_CHUNK_TOKENS": "32", "NEWSDESK_CHUNK_OVERLAP": "0"}
SENTENCES = [42] * 7 + [6] * 5
ATTEMPTS = 20  # the later kill points are millisecond windows; a fast, quiet machine misses some
_SEGMENT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Probe:
    """What can be seen of an ingest from outside its process: the SQLite file and Chroma's vector segments."""

    def __init__(self, data_dir: Path) -> None:
        self.chroma = data_dir / "chroma"
        self.sqlite = self.chroma / "chroma.sqlite3"
        self.journal_file = self.chroma / "chroma.sqlite3-journal"

    def segments(self) -> int:
        try:
            return sum(1 for entry in os.scandir(self.chroma) if entry.is_dir() and _SEGMENT.match(entry.name))
        except OSError:
            return 0

    def journal(self) -> bool:
        return self.journal_file.exists()

    def size(self) -> int:
        try:
            return self.sqlite.stat().st_size
        except OSError:
            return -1


def embedding_under_way(probe: Probe) -> Callable[[], bool]:
    """The store exists and a quarter second has passed: the first group is being embedded, nothing written."""
    seen: list[float] = []

    def ready() -> bool:
        if not seen and probe.size() > 0:
            seen.append(time.monotonic())
        return bool(seen) and time.monotonic() - seen[0] > 0.25

    return ready


def first_chunks_written(probe: Probe) -> bool:
    """The chunk collection's vector segment appeared: its chunks are in, its article records may not be."""
    return probe.segments() >= 1


def first_group_done(probe: Probe) -> bool:
    """The article collection's segment appeared too: the first group is complete, the second is starting."""
    return probe.segments() >= 2


def second_group(committed: bool) -> Callable[[Probe], Callable[[], bool]]:
    """After the first group and a quiet spell (the second group being embedded), the next write transaction:
    killed while its journal is on disk (a hot journal SQLite must roll back), or just after it committed (the
    second group's chunks are in, their article records are not)."""

    def make(probe: Probe) -> Callable[[], bool]:
        phase, quiet_since = [0], [0.0]

        def ready() -> bool:
            journal = probe.journal()
            if phase[0] == 0 and probe.segments() >= 2:
                phase[0], quiet_since[0] = 1, time.monotonic()
            elif phase[0] == 1:
                if journal:
                    quiet_since[0] = time.monotonic()
                elif time.monotonic() - quiet_since[0] > 0.1:
                    phase[0] = 2
            elif phase[0] == 2 and journal:
                if not committed:
                    return True
                phase[0] = 3
            elif phase[0] == 3 and not journal:
                return True
            return False

        return ready

    return make


KILL_POINTS: dict[str, Callable[[Probe], Callable[[], bool]]] = {
    "embedding-nothing-written": embedding_under_way,
    "first-chunks-written": lambda probe: lambda: first_chunks_written(probe),
    "first-group-done": lambda probe: lambda: first_group_done(probe),
    "second-group-mid-transaction": second_group(committed=False),
    "second-group-chunks-committed": second_group(committed=True),
}


@dataclass(frozen=True)
class Clean:
    folder: Path
    store: Snapshot
    chunks: int


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder) -> Iterator[Clean]:
    """The twelve articles, and the store one uninterrupted ingest makes of them."""
    home = tmp_path_factory.mktemp("crash")
    folder = write_towns(home / "news", SENTENCES)
    with pytest.MonkeyPatch.context() as mp:
        clean_environment(mp, home)
        mp.setattr("rag.pipeline.MiniLMEmbedder", lambda *args, **kwargs: embedder)
        pipeline = build_pipeline(Settings(data_dir=home / "clean", **CHUNKING))  # type: ignore[arg-type]
        report = Indexer(pipeline.settings, pipeline.embedder, pipeline.store, pipeline.lexical).run([folder])
        assert report.exit_code == 0 and report.added == 12
        forget_chroma_clients()

        def on(data_dir: Path, **overrides: object) -> object:
            return build_pipeline(Settings(data_dir=data_dir, **overrides))  # type: ignore[arg-type]

        store = snapshot(on, home / "clean", **CHUNKING)  # type: ignore[arg-type]
        forget_chroma_clients()
    assert store.counts == (12, report.chunks_written) and not store.orphans
    yield Clean(folder, store, report.chunks_written)


def _state_after_kill(pipeline_on: PipelineOn, data_dir: Path) -> tuple[int, int, int]:
    """(article records, chunks, orphan chunks) left behind by the killed process."""
    forget_chroma_clients()
    try:
        survivor = pipeline_on(data_dir, **CHUNKING)
        articles, chunks = survivor.store.counts()
        return articles, chunks, len(survivor.store.orphan_chunk_ids())
    except EmptyIndexError:
        return 0, 0, 0


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_an_ingest_killed_anywhere_and_run_again_equals_a_clean_ingest(
    point: str, clean: Clean, pipeline_on: PipelineOn, tmp_path: Path, record_property: Callable[..., None]
) -> None:
    # The later kill points are windows of milliseconds on a quiet machine; when the watcher misses one (the
    # ingest finishes first), that says nothing about the product, so the run is repeated in a new data dir.
    for attempt in range(ATTEMPTS):
        data_dir = tmp_path / f"killed-{attempt}"
        probe = Probe(data_dir)
        env = {"NEWSDESK_DATA_DIR": str(data_dir), **CHUNK_ENV}
        ingest = Newsdesk(["ingest", "--quiet", str(clean.folder)], tmp_path, env)
        killed = ingest.kill_when(KILL_POINTS[point](probe))
        run = ingest.wait()
        if killed and run.returncode == -signal.SIGKILL:
            break
    else:
        pytest.fail(f"the ingest ended before the kill point {ATTEMPTS} times: {run.stderr}")

    articles, chunks, orphans = _state_after_kill(pipeline_on, data_dir)
    record_property("state_after_kill", f"{articles} articles, {chunks} chunks, {orphans} orphans")
    print(f"\nkilled at {point}: {articles}/12 articles, {chunks}/{clean.chunks} chunks, {orphans} orphans")

    forget_chroma_clients()
    again = pipeline_on(data_dir, **CHUNKING)
    report = Indexer(again.settings, again.embedder, again.store, again.lexical).run([clean.folder])
    assert report.exit_code == 0 and report.rejected == []
    assert report.added + report.unchanged == 12
    # Chunks that survived the kill are reused by id; only the missing ones are embedded.
    assert report.chunks_embedded == clean.chunks - chunks

    after = snapshot(pipeline_on, data_dir, **CHUNKING)
    assert after.counts == clean.store.counts
    assert after.article_ids == clean.store.article_ids
    assert after.chunk_ids == clean.store.chunk_ids
    assert after.chunks_of == clean.store.chunks_of
    assert after.bm25_ids == after.chunk_ids  # every BM25 entry is a stored chunk and vice versa
    assert after.bm25_loaded_in_step  # the index on disk, not one rebuilt on reading
    assert after.orphans == ()

    # The vector index is whole too: each article's chunks are found by their own vectors in a fresh process.
    forget_chroma_clients()
    reader = pipeline_on(data_dir, **CHUNKING)
    firsts = [min(ids) for ids in after.chunks_of.values()]
    for cid, (_, vector) in reader.store.get_chunks(firsts, with_vectors=True).items():
        [best] = reader.store.query(vector, 1)
        assert best.chunk.id == cid
