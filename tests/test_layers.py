"""The house's shape, checked: imports run one way, and an answerer loads neither the store nor BM25."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.unit
def test_importing_the_answerers_loads_no_store_or_bm25() -> None:
    probe = (
        "import sys, rag.extractive, rag.verify, rag.citations; "
        "print(sorted(m for m in ('rag.store', 'rag.chroma', 'rag.lexical', 'chromadb', 'bm25s') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.unit
def test_the_import_layers_hold() -> None:
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    done = subprocess.run([lint, "--no-cache"], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
