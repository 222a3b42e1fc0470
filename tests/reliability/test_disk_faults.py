"""Disk and store faults: a read-only data dir, a missing one, and a store built by another embedder or an older
layout. Each gets a message that names the fix, exits non-zero where something could not be done, and changes
nothing on disk."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.indexer import Indexer
from rag import chroma
from rag.errors import IndexMismatchError
from rag.pipeline import BUNDLED_CORPUS
from rag.settings import Settings
from rag.store import LAYOUT
from tests.reliability.conftest import (
    SEED_QUESTION,
    PipelineOn,
    forget_chroma_clients,
    newsdesk,
    no_traceback,
)

pytestmark = pytest.mark.integration


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and mtime: proof that nothing was written."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def _raw_state(data_dir: Path) -> dict[str, Any]:
    """Counts, ids and metadata read with Chroma directly (the store itself refuses a mismatched index)."""
    forget_chroma_clients()
    client = chroma.client(Settings(data_dir=data_dir))
    chunks = client.get_collection("newsdesk", embedding_function=None)
    articles = client.get_collection("newsdesk-articles", embedding_function=None)
    state = {
        "chunk_ids": sorted(chunks.get(include=[])["ids"]),
        "article_ids": sorted(articles.get(include=[])["ids"]),
        "meta": dict(chunks.metadata or {}),
    }
    forget_chroma_clients()
    return state


@pytest.fixture
def store_copy(bundled_store: Path, tmp_path: Path) -> Path:
    """A private copy of the bundled-corpus store, free to damage."""
    forget_chroma_clients()
    copy = tmp_path / "store"
    shutil.copytree(bundled_store, copy)
    return copy


# --- read-only -----------------------------------------------------------------------------------------
def _can_mount() -> bool:
    return shutil.which("mount") is not None and shutil.which("umount") is not None


@pytest.fixture
def read_only(store_copy: Path, tmp_path: Path) -> Iterator[Path]:
    """The store copy, read-only: by permissions for a normal user; as root (who ignores permissions) through a
    read-only bind mount; skipped when neither is possible."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [store_copy, *store_copy.rglob("*")]}
        for path in modes:
            path.chmod(modes[path] & ~0o222)
        try:
            yield store_copy
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    view = tmp_path / "mounted"
    view.mkdir()
    if not _can_mount():
        pytest.skip("running as root (permissions do not stop root) and `mount` is not available for a read-only view")
    bound = subprocess.run(["mount", "--bind", str(store_copy), str(view)], capture_output=True, text=True)
    if bound.returncode != 0:
        pytest.skip(f"running as root and cannot bind-mount a read-only view: {bound.stderr.strip()}")
    try:
        remount = subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], capture_output=True, text=True)
        if remount.returncode != 0:
            pytest.skip(f"running as root and cannot make the bind mount read-only: {remount.stderr.strip()}")
        probe = view / "probe"
        try:
            probe.write_text("x")
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip("the read-only bind mount still accepts writes here")
        yield view
    finally:
        subprocess.run(["umount", str(view)], capture_output=True, check=False)


@pytest.mark.slow
def test_a_read_only_data_dir_is_refused_clearly_and_left_untouched(
    read_only: Path, store_copy: Path, tmp_path: Path
) -> None:
    before = _tree(store_copy)
    env = {"NEWSDESK_DATA_DIR": str(read_only)}

    ingest = newsdesk("ingest", "--quiet", str(BUNDLED_CORPUS), cwd=tmp_path, env=env)
    assert ingest.returncode == 1
    assert ingest.stderr.startswith(f"error: Cannot write to the data folder {read_only}")
    assert "Point NEWSDESK_DATA_DIR at a folder you can write to." in ingest.stderr
    no_traceback(ingest)

    # Chroma writes to its folder even to read, so asking cannot work either: the message says so and how to fix it.
    ask = newsdesk("ask", SEED_QUESTION, cwd=tmp_path, env=env)
    assert ask.returncode == 1
    assert "read-only" in ask.stderr and "NEWSDESK_DATA_DIR" in ask.stderr, ask.stderr
    no_traceback(ask)

    assert _tree(store_copy) == before


# --- missing -------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_missing_data_dir_is_reported_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "data"
    env = {"NEWSDESK_DATA_DIR": str(missing)}

    status = newsdesk("status", cwd=tmp_path, env=env)
    # `status` reports rather than fails: nothing is indexed there, and it shows where it looked.
    assert status.returncode == 0
    assert f"store       {missing / 'chroma'}" in status.stdout and "articles    0" in status.stdout
    assert "Nothing indexed yet: run `newsdesk ingest PATH`" in status.stdout

    ask = newsdesk("ask", SEED_QUESTION, cwd=tmp_path, env=env)
    assert ask.returncode == 1
    assert ask.stderr.startswith("error: No articles indexed yet") and "newsdesk ingest" in ask.stderr
    no_traceback(status)
    no_traceback(ask)

    assert not (tmp_path / "typo").exists(), "a read-only command created the data dir"


def test_a_data_dir_under_a_regular_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file where a folder should be\n")
    env = {"NEWSDESK_DATA_DIR": str(blocker / "data")}
    ingest = newsdesk("ingest", "--quiet", str(BUNDLED_CORPUS), cwd=tmp_path, env=env)
    assert ingest.returncode == 1
    assert ingest.stderr.startswith(f"error: Cannot write to the data folder {blocker / 'data'}: Not a directory")
    assert "Point NEWSDESK_DATA_DIR at a folder you can write to." in ingest.stderr
    no_traceback(ingest)
    assert blocker.read_text() == "a file where a folder should be\n"


# --- built by something else ---------------------------------------------------------------------------
def _rewrite_meta(data_dir: Path, **changes: Any) -> None:
    forget_chroma_clients()
    chunks = chroma.client(Settings(data_dir=data_dir)).get_collection("newsdesk", embedding_function=None)
    chunks.modify(metadata={**(chunks.metadata or {}), **changes})
    forget_chroma_clients()


@pytest.mark.slow
def test_a_store_built_by_another_embedder_is_refused_with_the_fix_and_kept(store_copy: Path, tmp_path: Path) -> None:
    _rewrite_meta(store_copy, embedder="other-embedder-v9")
    before = _raw_state(store_copy)
    env = {"NEWSDESK_DATA_DIR": str(store_copy)}

    for args in (("ask", SEED_QUESTION), ("ingest", "--quiet", str(BUNDLED_CORPUS)), ("status",)):
        run = newsdesk(*args, cwd=tmp_path, env=env)
        assert run.returncode == 1, (args, run.stdout)
        assert run.stderr.startswith("error: The index in "), run.stderr
        assert "embedder='other-embedder-v9'" in run.stderr and "Run `newsdesk ingest --rebuild`" in run.stderr
        no_traceback(run)

    assert _raw_state(store_copy) == before  # not a chunk, record or setting changed


def test_an_older_layout_is_refused_and_rebuild_brings_it_up_to_date(
    store_copy: Path, pipeline_on: PipelineOn
) -> None:
    _rewrite_meta(store_copy, layout=LAYOUT - 1)
    before = _raw_state(store_copy)

    old = pipeline_on(store_copy)
    with pytest.raises(IndexMismatchError, match=rf"layout={LAYOUT - 1}.*Run `newsdesk ingest --rebuild`"):
        old.answer(SEED_QUESTION)
    with pytest.raises(IndexMismatchError, match=r"newsdesk ingest --rebuild"):
        Indexer(old.settings, old.embedder, old.store, old.lexical).run([BUNDLED_CORPUS])
    assert _raw_state(store_copy) == before

    # The fix the message names works, from the stored texts alone, and keeps every article.
    fixed = pipeline_on(store_copy)
    report = Indexer(fixed.settings, fixed.embedder, fixed.store, fixed.lexical).run([], rebuild=True)
    assert report.exit_code == 0 and report.reindexed == 1
    after = _raw_state(store_copy)
    assert after["meta"]["layout"] == LAYOUT
    assert (after["article_ids"], after["chunk_ids"]) == (before["article_ids"], before["chunk_ids"])
    assert pipeline_on(store_copy).answer(SEED_QUESTION).text.startswith("Anthropic")
