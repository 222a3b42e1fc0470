"""The plumbing under ``GenerativeAnswerer``: a private asyncio loop in a daemon thread, the per-call record
of HTTP responses (so a cancelled stream can hang up on the server), and the finish-reason watch that tells
a complete stream from a cut one."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult

GRACE_SECONDS = 2.0  # how long past the deadline we wait for the loop to report the cancellation itself


@dataclass
class Call:
    """What one call's HTTP exchanges left behind, collected by the client's response hook."""

    statuses: list[int] = field(default_factory=list)  # retries included: says what a deadline waited through
    responses: list[Any] = field(default_factory=list)

    async def close(self) -> None:
        # LangChain and the openai SDK leave a cancelled stream's response open until garbage collection;
        # closing it here hangs up on the server now, so it stops generating for nobody.
        for response in self.responses:
            with contextlib.suppress(Exception):
                await response.aclose()


call_var: ContextVar[Call | None] = ContextVar("newsdesk_llm_call", default=None)


async def record_response(response: Any) -> None:
    call = call_var.get()
    if call is not None:
        call.statuses.append(int(response.status_code))
        call.responses.append(response)


class FinishWatch(BaseCallbackHandler):
    """Records the model's ``finish_reason``: a stream that ends without one was cut short."""

    run_inline = True  # record on the loop itself, before the chain's iterator ends

    def __init__(self) -> None:
        self.reason: str | None = None

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for generation in generations:
                reason = (generation.generation_info or {}).get("finish_reason")
                if reason:
                    self.reason = str(reason)


class LoopThread:
    """An asyncio loop running forever in a daemon thread; coroutines are submitted from any thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="newsdesk-llm", daemon=True)
        self._thread.start()

    def submit(self, coroutine: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def close(self, last: Any = None) -> None:
        if self.loop.is_closed():
            if last is not None:
                last.close()
            return
        if last is not None:
            with contextlib.suppress(Exception):
                self.submit(last).result(timeout=GRACE_SECONDS)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=GRACE_SECONDS)
        if not self._thread.is_alive():
            self.loop.close()
