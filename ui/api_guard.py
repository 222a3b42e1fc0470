"""The API's edge: Bearer auth, request size limits, and every error as JSON that says what to change.

Errors use OpenAI's shape (``{"error": {"message", "type", "param", "code"}}``) so OpenAI clients show the
message; nothing ever returns a stack trace (unexpected errors are logged, and the client is told so).
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.errors import EmptyIndexError, IndexMismatchError, InputError, LLMError, NewsdeskError, StoreError
from rag.settings import Settings

log = logging.getLogger("newsdesk.api")

MAX_JSON_BYTES = 1 * 2**20  # a question with a long conversation is a few kB; 1 MB leaves room
MAX_UPLOAD_BYTES = 50 * 2**20  # POST /v1/articles: many articles per request, each at most 5 MB
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_TYPES = {401: "authentication_error", 404: "not_found_error", 409: "conflict_error", 413: "request_too_large"}
_STATUS = [(InputError, 400), (EmptyIndexError, 409), (IndexMismatchError, 409), (StoreError, 503), (LLMError, 502)]


class ApiError(Exception):
    """An error the API answers with: its status, a message saying what to change, and an error type."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers


def error_body(status: int, message: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the API to this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("127.0.0.2"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    return host in LOOPBACK_HOSTS or host.startswith("127.")


_bearer = HTTPBearer(auto_error=False, description="The value of NEWSDESK_API_KEY, when the server has one.")


def key_checker(settings: Settings) -> Any:
    """A FastAPI dependency that lets a request through only with ``Authorization: Bearer <NEWSDESK_API_KEY>``
    (when the server has a key; without one every request passes)."""
    from fastapi import Depends

    expected = settings.api_key.get_secret_value().encode() if settings.api_key else None

    def check(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:  # noqa: B008
        if expected is None:
            return
        given = credentials.credentials.encode() if credentials else b""
        if not secrets.compare_digest(given, expected):
            what = "wrong API key" if credentials else "no API key"
            raise ApiError(401, f"Unauthorized ({what}): send the header `Authorization: Bearer <NEWSDESK_API_KEY>` "
                           "with the key this server was started with.", code="invalid_api_key",
                           headers={"WWW-Authenticate": "Bearer"})

    return check


def install_error_handlers(app: FastAPI) -> None:
    """Every error becomes a JSON body with a message; unexpected ones are logged, never shown."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.status, exc.message, exc.code), exc.status, headers=exc.headers)

    @app.exception_handler(NewsdeskError)
    async def newsdesk_error(request: Request, exc: NewsdeskError) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
        return JSONResponse(error_body(status, str(exc), type(exc).__name__), status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
            problems.append(f"{where}: {error.get('msg', 'invalid')}")
        message = f"Invalid request — {'; '.join(problems)}. Fix these fields (the schema is at /docs)."
        return JSONResponse(error_body(422, message, "invalid_request"), 422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"There is no {request.method} {request.url.path}; the routes are listed at /docs."
        elif exc.status_code == 405:
            message = f"{request.url.path} does not take {request.method}; the routes are listed at /docs."
        return JSONResponse(error_body(exc.status_code, message), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return JSONResponse(error_body(500, "Something went wrong on the server; the details are in its log."), 500)


class BodyLimit:
    """Refuses a request body over its route's limit with a 413 before the route reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["path"].rstrip("/") == "/v1/articles" and scope["method"] == "POST"
        limit = MAX_UPLOAD_BYTES if upload else MAX_JSON_BYTES
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, int(declared), limit, upload)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No length given (chunked): read it here, counting, and hand the route what was read.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(send, size, limit, upload)
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, size: int, limit: int, upload: bool) -> None:
    fix = ("Send fewer articles per request (each article may be up to 5 MB)." if upload
           else "Send a shorter question or conversation.")
    message = f"The request body is over {limit // 2**20} MB ({size / 2**20:.1f} MB so far). {fix}"
    body = json.dumps(error_body(413, message, "request_too_large")).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
