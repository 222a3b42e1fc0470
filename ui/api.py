"""`newsdesk serve`: the HTTP API. OpenAI-compatible chat (any OpenAI client or Open WebUI can use it) plus
newsdesk's own routes; see README, "HTTP API". Docs at /docs, the schema at /openapi.json.

Streaming uses sse-starlette rather than a bare ``StreamingResponse``: it stops the answer when the client
goes away, sends keep-alive comments while a slow model thinks (proxies drop silent connections), and sets
the headers proxies need not to buffer the stream (``Cache-Control: no-cache``, ``X-Accel-Buffering: no``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi_offline import FastAPIOffline
from sse_starlette import EventSourceResponse

from ingest.service import Newsdesk, build_service
from rag.errors import NewsdeskError
from rag.records import Answer
from rag.settings import Settings
from ui import api_openai as oa
from ui.api_guard import ApiError, BodyLimit, error_body, install_error_handlers, key_checker
from ui.api_jobs import ApiJobs
from ui.api_models import ChatCompletion, ChatRequest, ErrorBody, Health, ModelCard, ModelList
from ui.api_native import native_routes
from ui.ports import check_port_free

log = logging.getLogger("newsdesk.api")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": what}
    for code, what in [(400, "Bad input (the message says what to change)"), (401, "No or wrong API key"),
                       (404, "No such model, article or job"), (409, "Nothing indexed yet, or an index to rebuild"),
                       (413, "Request body too large"), (422, "Invalid request body or parameters"),
                       (503, "The store cannot be opened")]
}
# Before OpenAPI 3.2 an event stream's `schema` describes one event, as clients and schemathesis parse it.
_STREAM = {"text/event-stream": {"schema": {
    "type": "object", "required": ["data"],
    "properties": {"data": {"type": "string", "description": "a ChatCompletionChunk as JSON; the last event is "
                                                             "`[DONE]`"},
                   "event": {"type": "string"}, "id": {"type": "string"}, "retry": {"type": "integer"}},
    "description": "one server-sent event: `data: <ChatCompletionChunk JSON>` events, then `data: [DONE]`"}}}


def create_app(service: Newsdesk, settings: Settings) -> FastAPI:
    """The API over ``service``; ingest jobs go to the data dir's queue, drained by a worker thread that lives
    as long as the app (or by the page's, when the page took the data dir's worker lock first)."""
    jobs = ApiJobs(service, settings.data_dir)
    started = int(time.time())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs.start()
        yield
        jobs.stop()

    # The docs page's script and styles are served from the fastapi-offline package, not a CDN: offline too.
    app = FastAPIOffline(
        redoc_url=None,
        title="newsdesk",
        version="0.1.0",
        summary="Answers from your news articles with verbatim citations: OpenAI-compatible chat and native routes.",
        lifespan=lifespan,
        responses={k: v for k, v in ERRORS.items() if k in {401, 413, 422}},
    )
    app.add_middleware(BodyLimit)
    install_error_handlers(app)

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Health:
        """Whether the server is up (no key needed, reads nothing)."""
        return Health()

    openai = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], dependencies=[Depends(key_checker(settings))])

    @openai.get("/models", response_model=ModelList)
    def models() -> ModelList:
        """One model per collection served: its id is the collection name."""
        return ModelList(data=[ModelCard(id=settings.collection, created=started)])

    @openai.post(
        "/chat/completions",
        response_model=ChatCompletion,
        responses={200: {"content": _STREAM, "model": ChatCompletion}, **ERRORS},
    )
    def chat_completions(body: ChatRequest, request: Request) -> Any:
        """Answer the last user message, with the earlier ones as the conversation. ``stream: true`` sends
        server-sent chunks; the last chunk carries ``citations`` and ``newsdesk`` like a whole completion."""
        if body.model != settings.collection:
            raise ApiError(404, f"The model {body.model!r} does not exist here; use {settings.collection!r} "
                           "(GET /v1/models lists the models).", code="model_not_found")
        question, history = oa.split_messages(body.messages)
        ids: dict[str, Any] = {"model": body.model, "created": int(time.time()),
                               "completion_id": f"chatcmpl-{uuid.uuid4().hex}"}
        base_url = str(request.base_url)
        if not body.stream:
            answer = service.ask(question, history, **oa.call_options(body.newsdesk))
            return oa.completion(answer, base_url=base_url, **ids)
        pieces = service.stream(question, history, **oa.call_options(body.newsdesk))
        first = next(pieces)  # bad input and an empty index fail here, as a JSON error rather than mid-stream
        usage = bool(body.stream_options and body.stream_options.include_usage)
        return EventSourceResponse(_events(first, pieces, ids, base_url, usage), sep="\n")

    app.include_router(openai)
    app.include_router(native_routes(service, jobs), prefix="/v1",
                       dependencies=[Depends(key_checker(settings))])
    _name_the_models(app, [settings.collection])
    return app


def _name_the_models(app: FastAPI, models: list[str]) -> None:
    """The schema lists the model ids this server accepts, so generated clients (and schemathesis) send one."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema["components"]["schemas"]["ChatRequest"]["properties"]["model"]["enum"] = models
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _events(
    first: str | Answer, pieces: Iterator[str | Answer], ids: dict[str, Any], base_url: str, usage: bool
) -> Iterator[dict[str, str]]:
    """The stream's events in OpenAI's chunk format: role, text pieces, the closing chunk, ``[DONE]``."""
    yield {"data": oa.text_chunk("", first=True, **ids)}
    try:
        item = first
        while not isinstance(item, Answer):
            if item:
                yield {"data": oa.text_chunk(item, **ids)}
            item = next(pieces)
        yield {"data": oa.final_chunk(item, base_url=base_url, include_usage=usage, **ids)}
    except NewsdeskError as exc:  # once streaming, an error can only be an event (OpenAI clients raise it)
        yield {"data": json.dumps(error_body(400, str(exc), type(exc).__name__))}
    except Exception:
        log.exception("streaming an answer failed")
        yield {"data": json.dumps(error_body(500, "Something went wrong on the server; the details are in its log."))}
    yield {"data": "[DONE]"}


def serve(settings: Settings, host: str, port: int) -> int:
    """Run the API with uvicorn until interrupted."""
    import uvicorn

    check_port_free(host, port, f"`newsdesk serve --port {port + 1}`")  # before the model loads

    app = create_app(build_service(settings), settings)
    auth = "Bearer key required" if settings.api_key else "no key (loopback only)"
    print(f"newsdesk API on http://{host}:{port}/v1 · model {settings.collection!r} · docs http://{host}:{port}/docs"
          f" · {auth}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5)
    return 0
