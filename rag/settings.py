"""The one configuration object. Built at the edges (CLI, page, tests) and passed inward."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob newsdesk has; each can be set as ``NEWSDESK_<NAME>`` or in a ``.env`` file."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSDESK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path(".newsdesk"), description="Root of the store, BM25 index and reports.")
    chroma_url: str | None = Field(default=None, description="http://host:port of a Chroma server; unset = embedded.")
    collection: str = Field(default="newsdesk", description="Chroma collection name (3-50 chars: a-z 0-9 . _ -).")

    chunk_tokens: int = Field(default=200, ge=32, le=240, description="Chunk size in cl100k tokens.")
    chunk_overlap: int = Field(default=40, ge=0, le=120, description="Tokens shared by neighbouring chunks.")

    k: int = Field(default=5, ge=1, le=50, description="Passages handed to the answerer.")
    fetch_factor: int = Field(default=8, ge=1, le=20, description="Each retriever fetches k x this before fusion.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")
    recency: bool = Field(
        default=True, description="Favour articles from the week before the question (asked today unless dated)."
    )

    time_words: bool = Field(
        default=True, description="Read time words: 'last week' filters by date, 'latest' ranks newest first."
    )

    stories: bool = Field(
        default=True, description="Group copies of one story at ingest and show each story once among the sources."
    )

    allow_private_urls: bool = Field(
        default=False, description="Let ingest/watch fetch loopback and private-network addresses (off: a feed's "
        "link cannot reach inside your network)."
    )
    fetch_timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds per feed or page request.")
    fetch_concurrency: int = Field(default=4, ge=1, le=16, description="Article pages fetched at once.")

    answer_mode: Literal["auto", "extractive", "generative"] = "auto"
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("NEWSDESK_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(default=None, description="Any OpenAI-compatible /v1 endpoint.")
    openai_model: str = "gpt-4o-mini"
    llm_timeout: float = Field(default=30.0, gt=0, description="Seconds before an LLM request is abandoned.")
    llm_max_retries: int = Field(default=1, ge=0, le=5)
    context_tokens: int = Field(default=3000, ge=256, description="Token budget for passages in the prompt.")
    verify: Literal["flag", "drop", "off"] = "flag"
    api_key: SecretStr | None = Field(
        default=None, description="Bearer token `newsdesk serve` requires on every route but /healthz; unset = none."
    )

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        import re

        if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,48}[a-zA-Z0-9]", value):
            raise ValueError("use 3-50 characters from a-z, 0-9, '.', '_' and '-', starting and ending alphanumeric")
        return value

    @property
    def generative(self) -> bool:
        """Whether answers come from an LLM: forced by answer_mode, else when a key or endpoint is set."""
        if self.answer_mode != "auto":
            return self.answer_mode == "generative"
        return self.openai_api_key is not None or self.openai_base_url is not None

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "bm25" / self.collection

    @property
    def stories_path(self) -> Path:
        """The story groups of the collection (ingest/story_index.py), beside its BM25 index."""
        return self.data_dir / "stories" / f"{self.collection}.sqlite"


def load_settings() -> Settings:
    """Settings from the environment and ``.env``; a bad value raises an error that names the variable."""
    from pydantic import ValidationError

    from rag.errors import NewsdeskError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"NEWSDESK_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise NewsdeskError(f"Bad setting — {problems}. Fix the environment variable or .env entry.") from exc
