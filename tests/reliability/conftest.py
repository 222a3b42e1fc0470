"""Helpers for the reliability tests: `newsdesk` as a real process (with its own peak memory), pipelines on any
data dir sharing the session's embedder, generated articles, and a snapshot of everything a store holds."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.embedder import MiniLMEmbedder
from rag.pipeline import Pipeline, build_pipeline
from rag.settings import Settings

FAKE_KEY = "sk-reliability-LEAKCHECK-5e4d3c2b1a"  # recognisable anywhere it might leak


def newsdesk_script() -> str:
    script = Path(sys.executable).with_name("newsdesk")
    if not script.is_file():
        pytest.fail(f"the newsdesk console script is not installed next to {sys.executable}; run `make install`")
    return str(script)


@dataclass(frozen=True)
class Run:
    """One finished `newsdesk` process."""

    returncode: int  # negative: killed by that signal
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float  # this process's own high-water mark (VmHWM after exec), not the forking test process

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Newsdesk:
    """``newsdesk ARGS`` in ``cwd`` with the test's environment plus ``env``; ``kill_when`` may SIGKILL it."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.args = args
        self._out = (cwd / f".out-{time.monotonic_ns()}").open("w+")
        self._err = (cwd / f".err-{time.monotonic_ns()}").open("w+")
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [newsdesk_script(), *args], cwd=cwd, env={**os.environ, **(env or {})},
            stdout=self._out, stderr=self._err, text=True,
        )

    def kill_when(self, ready: Callable[[], bool], timeout: float = 240.0) -> bool:
        """Poll ``ready`` until it holds, then SIGKILL the process; False when it ended first."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            if ready():
                os.kill(self.process.pid, signal.SIGKILL)  # this process only, by its pid
                return True
            time.sleep(0.002)
        return False

    def wait(self, timeout: float = 300.0) -> Run:
        deadline = time.monotonic() + timeout
        status, peak_kb = None, 0
        if self.process.returncode is not None:  # kill_when's poll() already reaped it
            status = _status_of(self.process.returncode)
        while status is None:
            # VmHWM belongs to the program's own memory map, made at exec. wait4's ru_maxrss would also count
            # the pages the child shared with this (large) pytest process between fork and exec.
            peak_kb = max(peak_kb, _vm_hwm_kb(self.process.pid))
            pid, raw, _ = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                status = raw
            elif time.monotonic() > deadline:
                os.kill(self.process.pid, signal.SIGKILL)
                pytest.fail(f"newsdesk {' '.join(self.args)} did not finish within {timeout:g} s")
            else:
                time.sleep(0.01)
        self.process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must be told
        seconds = time.monotonic() - self.started
        texts = []
        for handle in (self._out, self._err):
            handle.seek(0)
            texts.append(handle.read())
            handle.close()
            Path(handle.name).unlink()
        return Run(self.process.returncode, texts[0], texts[1], seconds, peak_kb / 1024)


def _status_of(returncode: int) -> int:
    """A wait status for a return code Popen already collected (negative: killed by that signal)."""
    return -returncode if returncode < 0 else returncode << 8


def _vm_hwm_kb(pid: int) -> int:
    """The process's peak resident memory so far (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def newsdesk(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300.0) -> Run:
    """Run ``newsdesk ARGS`` to the end."""
    return Newsdesk(list(args), cwd, env).wait(timeout)


def no_traceback(run: Run) -> None:
    assert "Traceback" not in run.output, run.stderr[-3000:]


def forget_chroma_clients() -> None:
    """Drop this process's Chroma clients, so the next read opens the store afresh from disk.

    Needed after another process wrote: an open embedded client keeps its vector index in memory.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    from rag.store import forget_clients

    forget_clients()
    SharedSystemClient.clear_system_cache()


PipelineOn = Callable[..., Pipeline]


@pytest.fixture
def pipeline_on(embedder: MiniLMEmbedder) -> PipelineOn:
    """``pipeline_on(data_dir, **settings)`` → a real pipeline there, with the session's embedder."""

    def make(data_dir: Path, **overrides: object) -> Pipeline:
        return build_pipeline(Settings(data_dir=data_dir, **overrides), embedder=embedder)  # type: ignore[arg-type]

    return make


@dataclass(frozen=True)
class Snapshot:
    """Everything that must match between two stores built from the same files."""

    counts: tuple[int, int]
    article_ids: frozenset[str]
    chunks_of: dict[str, frozenset[str]]  # article id → its chunk ids
    chunk_ids: tuple[str, ...]  # sorted; a duplicate would show as an id the clean store lacks
    bm25_ids: tuple[str, ...]  # sorted ids of the BM25 index as a fresh reader loads it
    bm25_loaded_in_step: bool  # the index on disk carried the store's generation (not rebuilt on read)
    orphans: tuple[str, ...]


def snapshot(pipeline_on: PipelineOn, data_dir: Path, **settings: object) -> Snapshot:
    """The store in ``data_dir`` as a new process would see it."""
    forget_chroma_clients()
    fresh = pipeline_on(data_dir, **settings)
    generation = str(fresh.store.info().get("generation", ""))
    loaded = fresh.lexical.load() and fresh.lexical.generation == generation
    lexical = fresh.fresh_lexical()
    chunks = list(fresh.store.iter_chunks())
    chunks_of: dict[str, set[str]] = {}
    for chunk in chunks:
        chunks_of.setdefault(chunk.article_id, set()).add(chunk.id)
    return Snapshot(
        counts=fresh.store.counts(),
        article_ids=frozenset(fresh.store.article_paths()),
        chunks_of={k: frozenset(v) for k, v in chunks_of.items()},
        chunk_ids=tuple(sorted(c.id for c in chunks)),
        bm25_ids=tuple(sorted(lexical.ids)),
        bm25_loaded_in_step=loaded,
        orphans=tuple(fresh.store.orphan_chunk_ids()),
    )


TOWNS = ["Aldport", "Brenford", "Castlemere", "Dunwick", "Eastholm", "Fairhaven", "Glenrock", "Highbury",
         "Ivybridge", "Jarrow", "Kingsley", "Lowmoor"]
TOPICS = ["harbour", "library", "bridge", "school", "hospital", "railway", "market", "museum", "stadium",
          "airport", "park", "ferry"]


def town_article(i: int, sentences: int) -> str:
    """A short, distinct, news-like article about town ``i``: a title line, then paragraphs of five sentences."""
    town, topic = TOWNS[i % len(TOWNS)], TOPICS[i % len(TOPICS)]
    rnd = random.Random(i)
    lines = [f"{town} {topic} project reaches milestone", ""]
    for s in range(sentences):
        n = rnd.randint(2, 900)
        lines.append(
            f"In update {s} the {town} council said the {topic} work had used {n} tonnes of material "
            f"and employed {n % 97 + 3} local workers."
        )
        if s % 5 == 4:
            lines.append("")
    return "\n".join(lines) + "\n"


def write_towns(folder: Path, sentences: list[int]) -> Path:
    """One ``NN-town.txt`` per entry of ``sentences`` (its length in sentences)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, n in enumerate(sentences):
        (folder / f"{i:02d}-{TOWNS[i % len(TOWNS)].lower()}.txt").write_text(town_article(i, n), "utf-8")
    return folder


def clean_environment(mp: pytest.MonkeyPatch, home: Path) -> None:
    """What the autouse isolation does per test, for module-scoped fixtures that run before it."""
    for name in list(os.environ):
        if name.startswith(("NEWSDESK_", "OPENAI_")):
            mp.delenv(name)
    mp.chdir(home)


@pytest.fixture(scope="module")
def bundled_store(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder) -> Path:
    """A data dir holding the bundled corpus (one article), built once per module; tests only read it."""
    from ingest.indexer import Indexer
    from rag.pipeline import BUNDLED_CORPUS

    home = tmp_path_factory.mktemp("bundled")
    with pytest.MonkeyPatch.context() as mp:
        clean_environment(mp, home)
        mp.setattr("rag.pipeline.MiniLMEmbedder", lambda *args, **kwargs: embedder)
        pipeline = build_pipeline(Settings(data_dir=home / "data"))
        report = Indexer(pipeline.settings, pipeline.embedder, pipeline.store, pipeline.lexical).run([BUNDLED_CORPUS])
        assert report.exit_code == 0 and report.added == 1
        forget_chroma_clients()
    return home / "data"


SEED_QUESTION = "Which company is lobbying the White House to ease export controls?"
SEED_QUOTE = "is actively lobbying the Trump White House to ease export controls"
