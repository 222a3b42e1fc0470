"""The HTTP API's request and response bodies (pydantic), which are also its OpenAPI schema."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# --- shared ------------------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    message: str = Field(description="What went wrong and what to change.")
    type: str = Field(description="invalid_request_error, authentication_error, not_found_error, conflict_error, …")
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    """Every 4xx/5xx: OpenAI's error shape, so OpenAI clients show the message."""

    error: ErrorDetail


class Options(BaseModel):
    """What `newsdesk ask` offers besides the question."""

    model_config = ConfigDict(extra="forbid")

    as_of: date | None = Field(default=None, description="Ask as on this day: favour that week's articles.")
    sources: list[str] = Field(default_factory=list, description="Only articles from these sources.")
    since: date | None = Field(default=None, description="Only articles published on or after this day.")
    until: date | None = Field(default=None, description="Only articles published on or before this day.")
    k: int | None = Field(default=None, ge=1, le=50, description="Passages to answer from (default NEWSDESK_K).")


class ReportedOut(BaseModel):
    """Another page telling the same story (grouped at ingest), shown as "also reported by"."""

    article_id: str
    title: str
    source: str
    url: str
    published_at: str


class CitationOut(BaseModel):
    """What ``[n]`` points at: a verbatim span of the article, ``quote == text[start:end]``."""

    n: int
    article_id: str
    title: str
    url: str = Field(description="The article's web address; empty when it has none.")
    published_at: str
    source: str
    quote: str
    start: int
    end: int
    also: list[ReportedOut] = Field(default_factory=list, description="The story's other pages: also reported by.")


# --- OpenAI-compatible -------------------------------------------------------------------------------


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """OpenAI's chat completion request; sampling parameters (temperature, max_tokens, …) are accepted and
    ignored. The last message is the question, earlier user/assistant pairs are the conversation."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description="A model id from GET /v1/models (the collection name, e.g. `newsdesk`).")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    newsdesk: Options = Field(default_factory=Options, description="newsdesk's own options (all optional).")


class NewsdeskExtra(BaseModel):
    """newsdesk's part of a completion: the answer as finally kept and its full citation records."""

    answer: str = Field(description="The answer text as finally kept (after a generated answer is checked).")
    refused: bool
    mode: str
    citations: list[CitationOut]
    warnings: list[str]
    standalone_question: str


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[str] = Field(description="`[n]` in the text is the source at `citations[n-1]` (its URL).")
    newsdesk: NewsdeskExtra


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(BaseModel):
    """One server-sent event of a streamed completion; the last one (``finish_reason`` "stop") also carries
    ``citations`` and ``newsdesk``."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    citations: list[str] | None = None
    newsdesk: NewsdeskExtra | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "newsdesk"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# --- native ------------------------------------------------------------------------------------------


class Turn(BaseModel):
    question: str
    answer: str


class AskRequest(Options):
    question: str = Field(description="The question (up to 2,000 characters).")
    history: list[Turn] = Field(default_factory=list, description="Earlier turns, oldest first.")


class PassageOut(BaseModel):
    n: int
    article_id: str
    title: str
    url: str
    published_at: str
    source: str
    text: str
    start: int
    end: int
    scores: dict[str, float]
    also: list[ReportedOut] = Field(default_factory=list, description="The story's other pages: also reported by.")


class CheckOut(BaseModel):
    sentence: str
    verdict: str
    score: float
    citation: int | None
    article_id: str
    span: str
    start: int
    end: int


class AskResponse(BaseModel):
    """The same object as `newsdesk ask --json`."""

    model_config = ConfigDict(extra="allow")

    question: str
    answer: str
    refused: bool
    mode: str
    citations: list[CitationOut]
    passages: list[PassageOut]
    checks: list[CheckOut]
    warnings: list[str]
    standalone_question: str
    searched: list[str] | None = Field(
        default=None, description="The published-date range searched, [since, until] (\"\" = open end); null = all."
    )
    timings_ms: dict[str, float]


class StatusOut(BaseModel):
    """The same object as `newsdesk status --json`."""

    model_config = ConfigDict(extra="allow")

    data_dir: str
    store: str
    collection: str
    articles: int
    chunks: int
    embedder: str
    chunking: str
    last_ingest: str
    answer_mode: str


class ArticleSummary(BaseModel):
    id: str
    title: str
    url: str
    source: str
    published_at: str
    authors: list[str]
    chars: int = Field(description="Length of the stored text (0 for a headline-only link).")


class ArticleOut(ArticleSummary):
    text: str


class ArticleList(BaseModel):
    total: int
    offset: int
    limit: int
    articles: list[ArticleSummary]


class Deleted(BaseModel):
    id: str
    deleted: bool = True


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Where(BaseModel):
    where: str
    reason: str = ""
    message: str = ""


class IngestReportOut(BaseModel):
    """The same object as `newsdesk ingest --json`."""

    added: int
    updated: int
    unchanged: int
    removed: int
    reindexed: int
    rejected: list[Where]
    notes: list[Where]
    chunks_written: int
    chunks_embedded: int
    seconds: float
    embed_seconds: float
    exit_code: int


class JobOut(BaseModel):
    """An ingest job of the data dir's queue (the page's jobs list shows the same ones)."""

    id: str
    kind: Literal["ingest", "reindex"] = Field(
        default="ingest", description="`reindex`: re-embed every stored article (started on the articles page).")
    status: Literal["queued", "running", "done", "failed", "stopped"] = Field(
        description="`stopped`: the server died during it too often; what it ingested is kept, post it again.")
    inputs: list[str] = Field(description="The uploaded files, as named in the report's `where`.")
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    articles_total: int = Field(default=0, description="An estimate of the articles to read, for a progress bar.")
    articles_seen: int = 0
    chunks_embedded: int = 0
    attempts: int = Field(default=0, description="Runs started: more than 1 once resumed after a server restart.")
    note: str | None = Field(default=None, description="Resumed or waiting for the store, and why.")
    report: IngestReportOut | None = Field(default=None, description="Once done: what the ingest did.")
    error: str | None = Field(default=None, description="Once failed: why, and what to do.")


class JobList(BaseModel):
    jobs: list[JobOut] = Field(description="The newest jobs first.")
