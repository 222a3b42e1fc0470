"""Fixtures for the generative path: the scripted OpenAI-compatible server and settings pointing at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from rag.generative import GenerativeAnswerer
from rag.records import Chunk, Passage
from rag.settings import Settings
from tests.servers.openai_stub import MODEL, OpenAIStub, running_stub

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
