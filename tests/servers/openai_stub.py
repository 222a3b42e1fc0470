"""A scripted OpenAI-compatible server on 127.0.0.1, for driving the generative path into exact behaviours.

It speaks the real wire protocol over a real socket: ``POST /v1/chat/completions`` (streamed as SSE
``data: {...}`` chunks ending in ``data: [DONE]``, or one JSON body) and ``GET /v1/models``. Each request is
answered by the next scripted ``Scenario`` (the last one repeats), and every request is recorded, so a test
can both shape the model's behaviour and inspect exactly what newsdesk sent.

    with running_stub() as stub:
        stub.script(Scenario(kind="status", status=500), Scenario(text="Fine [1]."))
        ...  # settings.openai_base_url = stub.url
        stub.requests[0].messages  # what the client sent
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

MODEL = "stub-model"

Kind = Literal["answer", "status", "hang", "trickle", "break", "truncate", "malformed"]


@dataclass(frozen=True)
class Scenario:
    """How the stub answers one request.

    Kinds:
        answer: ``text`` in ``pieces`` streamed chunks (or one JSON body when the client does not stream;
            the faults below have non-streaming forms too: a half body, a short body, no finish_reason).
        status: HTTP ``status`` with an OpenAI-style error body (its message echoes the bearer key, as a
            careless server might, so tests can prove newsdesk never repeats it); ``retry_after`` sets the
            Retry-After header.
        hang: accept the request, then say nothing for ``hang_seconds``.
        trickle: send headers, then an SSE comment every ``delay`` seconds forever: bytes keep arriving,
            so only an overall deadline can stop the client.
        break: stream ``break_after`` chunks, then close the socket mid-body (chunked encoding left open).
        truncate: stream ``break_after`` chunks, then end the body cleanly without a finish_reason or [DONE].
        malformed: stream ``break_after`` good chunks, then a ``data:`` line that is not JSON.
    """

    kind: Kind = "answer"
    text: str = "The council approved the budget [1]."
    pieces: int = 4
    status: int = 500
    retry_after: str | None = None
    hang_seconds: float = 60.0
    delay: float = 0.0
    break_after: int = 2


@dataclass(frozen=True)
class Request:
    """One request the stub received."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    def content(self, role: str) -> str:
        """The text of every message with ``role``, joined."""
        return "\n".join(str(m.get("content", "")) for m in self.messages if m.get("role") == role)


def split_pieces(text: str, pieces: int) -> list[str]:
    """``text`` cut into up to ``pieces`` parts at spaces; ``"".join`` gives ``text`` back exactly.

    >>> split_pieces("a bb ccc dddd", 3)
    ['a bb ', 'ccc ', 'dddd']
    """
    if pieces <= 1 or not text:
        return [text]
    size = max(1, len(text) // pieces)
    parts: list[str] = []
    start = 0
    while start < len(text) and len(parts) < pieces - 1:
        cut = text.find(" ", start + size - 1)
        if cut < 0:
            break
        parts.append(text[start : cut + 1])
        start = cut + 1
    parts.append(text[start:])
    return [p for p in parts if p]


class OpenAIStub:
    """The server; use ``running_stub()`` to start and stop it."""

    def __init__(self) -> None:
        self._scenarios: list[Scenario] = [Scenario()]
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self.aborted = threading.Semaphore(0)  # released each time a client hangs up mid-response
        self.stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="openai-stub", daemon=True)

    def script(self, *scenarios: Scenario) -> None:
        """Answer the next requests with ``scenarios`` in order; the last one repeats. Clears the record."""
        with self._lock:
            self._scenarios = list(scenarios) or [Scenario()]
            self.requests.clear()

    def next_scenario(self, request: Request) -> Scenario:
        with self._lock:
            self.requests.append(request)
            return self._scenarios.pop(0) if len(self._scenarios) > 1 else self._scenarios[0]

    @property
    def chat_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()  # releases handlers that hang or trickle
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def running_stub() -> Iterator[OpenAIStub]:
    """A started stub on a free 127.0.0.1 port, stopped on exit."""
    stub = OpenAIStub()
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


def _chunk(content: str | None = None, finish: str | None = None, role: str | None = None) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()), "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _headers(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    return {name.lower(): value for name, value in handler.headers.items()}


def _handler(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # chunked streaming, so a broken stream is detectably broken

        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
            pass

        def do_GET(self) -> None:
            stub.requests.append(Request("GET", self.path, _headers(self)))
            if self.path.rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "stub"}]})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = {"_raw": raw.decode("utf-8", "replace")}
            scenario = stub.next_scenario(Request("POST", self.path, _headers(self), body))
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                return
            try:
                self._serve(scenario, bool(body.get("stream")))
            except (BrokenPipeError, ConnectionResetError):
                stub.aborted.release()  # the client gave up, as it should after its deadline

        def _serve(self, s: Scenario, stream: bool) -> None:
            if s.kind == "status":
                key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                headers = {"Retry-After": s.retry_after} if s.retry_after else {}
                error = {"message": f"scripted failure for key {key}", "type": "server_error", "code": s.status}
                self._json(s.status, {"error": error}, headers)
                return
            if s.kind == "hang":
                stub.stopping.wait(s.hang_seconds)
                self.close_connection = True
                return
            if not stream:
                self._serve_whole(s)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._event(_chunk("", role="assistant"))
            if s.kind == "trickle":
                while not stub.stopping.wait(s.delay or 0.2):
                    self._write(b": keepalive\n\n")
                return
            pieces = split_pieces(s.text, s.pieces)
            if s.kind in ("break", "truncate", "malformed"):
                pieces = pieces[: s.break_after]
            for piece in pieces:
                if s.delay:
                    stub.stopping.wait(s.delay)
                self._event(_chunk(piece))
            if s.kind == "break":
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # mid-body: no terminating zero-length chunk
                self.close_connection = True
                return
            if s.kind == "malformed":
                self._write(b'data: {"choices": [{"delta": {"content": "unfinished\n\n')
            elif s.kind == "answer":
                self._event(_chunk(finish="stop"))
                self._write(b"data: [DONE]\n\n")
            self._write(b"")  # the zero-length chunk: the body ends cleanly

        def _serve_whole(self, s: Scenario) -> None:
            """The non-streaming answer, with each fault shaped for a body sent all at once."""
            message = {"role": "assistant", "content": s.text}
            finish = None if s.kind == "truncate" else "stop"
            data = json.dumps({
                "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()), "model": MODEL,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }).encode()
            if s.kind == "malformed":
                data = data[: len(data) // 2]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data) * (2 if s.kind == "break" else 1)))
            self.end_headers()
            if s.kind == "trickle":
                while not stub.stopping.wait(s.delay or 0.2):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                return
            self.wfile.write(data)
            if s.kind == "break":
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # promised twice the bytes it sent
                self.close_connection = True

        def _event(self, payload: dict[str, Any]) -> None:
            self._write(b"data: " + json.dumps(payload).encode() + b"\n\n")

        def _write(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
