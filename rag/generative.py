"""The generative answerer: any OpenAI-compatible chat endpoint through LangChain's ``ChatOpenAI``.

The chain is plain LCEL, ``prompt | model | StrOutputParser()``. It runs on a private asyncio loop in one
daemon thread because only the async path can be cut off cleanly: httpx's read timeout restarts with every
byte, so a server that trickles bytes would otherwise hold a caller forever. Each call runs under one
deadline, ``NEWSDESK_LLM_TIMEOUT`` seconds for everything (connecting, retries, the whole stream); when it
passes, the request is cancelled, its connection closed, and ``LLMError`` raised. Every failure becomes an
``LLMError`` whose message says what to do and never contains the API key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import re
import time
from collections.abc import AsyncIterator, Generator, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from rag.errors import LLMError
from rag.llm_loop import GRACE_SECONDS, Call, FinishWatch, LoopThread, call_var, record_response
from rag.markers import repair_markers
from rag.prompts import (
    ANSWER_SYSTEM,
    CONDENSE_SYSTEM,
    Context,
    answer_inputs,
    clean_condensed,
    condense_inputs,
    fit_passages,
)
from rag.questions import History
from rag.records import REFUSAL, Passage
from rag.settings import Settings

__all__ = ["GenerativeAnswerer", "repair_markers"]

OPENAI_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "not-needed"  # local servers ignore the key, but the OpenAI client insists on one
MAX_ANSWER_TOKENS = 512  # three cited sentences need ~150; the cap stops a looping model early
MAX_CONDENSE_TOKENS = 96


class GenerativeAnswerer:
    """Streams cited answers and condenses follow-ups with one OpenAI-compatible model.

    Args:
        settings: model, base URL, key, ``llm_timeout`` (overall deadline per call), ``llm_max_retries`` and
            ``context_tokens`` (budget for passages) are read from it.
        chat_model: any LangChain ``BaseChatModel`` to answer and condense with (``ChatOllama``, …); default
            ``ChatOpenAI`` for the settings' OpenAI-compatible endpoint. A model handed in brings its own
            client and key; the deadline and the error messages are the same.
    """

    def __init__(self, settings: Settings, chat_model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self.base_url = settings.openai_base_url or OPENAI_URL
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        self._key = key
        # Never repeated in a message: the key, and a password someone put in the base URL.
        self._secrets = [s for s in (key, urlsplit(self.base_url).password or "") if len(s) >= 4]
        self._missing_key = chat_model is None and not key and settings.openai_base_url is None
        # ChatOpenAI reports a finish_reason, so a stream without one was cut short; other models may not say.
        self._require_finish = chat_model is None
        self._loop = LoopThread()
        # One httpx client, created here but first used (and so bound) on the private loop.
        http_client = openai.DefaultAsyncHttpxClient(event_hooks={"response": [record_response]})
        common: dict[str, Any] = {
            "model": settings.openai_model,
            "base_url": self.base_url,
            "api_key": SecretStr(key or PLACEHOLDER_KEY),
            "temperature": 0,
            "timeout": settings.llm_timeout,
            "max_retries": settings.llm_max_retries,
            "http_async_client": http_client,
            "use_responses_api": False,  # llama.cpp, Ollama and vLLM speak chat completions only
            "stream_usage": False,
            "stream_chunk_timeout": settings.llm_timeout,
        }
        self.model: BaseChatModel
        condenser: BaseChatModel
        if chat_model is not None:
            self.model = condenser = chat_model
        else:
            self.model = ChatOpenAI(**common, **_token_cap(self.base_url, MAX_ANSWER_TOKENS), streaming=True)
            condenser = ChatOpenAI(**common, **_token_cap(self.base_url, MAX_CONDENSE_TOKENS), streaming=False)
        self.chain: Runnable[dict[str, str], str] = (
            ChatPromptTemplate.from_messages([("system", ANSWER_SYSTEM), ("human", "{user}")])
            | self.model
            | StrOutputParser()
        )
        self.condense_chain: Runnable[dict[str, str], str] = (
            ChatPromptTemplate.from_messages([("system", CONDENSE_SYSTEM), ("human", "{user}")])
            | condenser
            | StrOutputParser()
        )
        self._http_client = http_client

    def context(self, passages: Sequence[Passage]) -> Context:
        """The passages the prompt will hold (a prefix of ``passages``) within ``context_tokens``."""
        return fit_passages(passages, self.settings.context_tokens)

    def stream(self, question: str, passages: Sequence[Passage]) -> Generator[str, None, None]:
        """The answer as text pieces, in order, as the model produces them.

        Markers ``[n]`` refer to ``self.context(passages).passages``, a prefix of ``passages``. With no
        passages the refusal sentence comes back without asking the model. Closing the generator early
        cancels the request and hangs up on the server.

        Raises:
            LLMError: the model could not answer in full within ``llm_timeout`` seconds, for any reason.
        """
        self._check_key()
        fitted = self.context(passages)
        if not fitted.passages:
            yield REFUSAL
            return
        yield from self._run(self.chain, answer_inputs(question, fitted.passages), "answer")

    def condense(self, question: str, history: History) -> str:
        """``question`` rewritten to stand alone given ``history`` ((question, answer) pairs, oldest first).

        Raises:
            LLMError: as for ``stream``.
        """
        if not history:
            return question
        self._check_key()
        reply = "".join(self._run(self.condense_chain, condense_inputs(question, history), "rewrite"))
        return clean_condensed(reply, question)

    def close(self) -> None:
        """Close the HTTP connections and stop the private loop (also safe to skip: the thread is a daemon)."""
        self._loop.close(self._http_client.aclose())

    def __enter__(self) -> GenerativeAnswerer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_key(self) -> None:
        if self._missing_key:
            raise LLMError(
                "No OpenAI API key: set OPENAI_API_KEY (or NEWSDESK_OPENAI_API_KEY), or set "
                "NEWSDESK_OPENAI_BASE_URL to a local OpenAI-compatible server."
            )

    def _run(self, chain: Runnable[dict[str, str], str], inputs: dict[str, str], what: str) -> Iterator[str]:
        """Drive ``chain.astream`` on the private loop under one deadline, handing pieces to this thread."""
        timeout = self.settings.llm_timeout
        deadline = time.monotonic() + timeout
        pieces: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        finish = FinishWatch()
        call = Call()

        async def pump() -> None:
            call_var.set(call)  # this task's own context, inherited by the tasks LangChain starts
            outcome: tuple[str, Any] = ("end", None)
            try:
                async with asyncio.timeout(timeout):
                    stream: AsyncIterator[str] = chain.astream(inputs, config={"callbacks": [finish]})
                    async with contextlib.aclosing(stream):  # type: ignore[type-var]
                        async for piece in stream:
                            if piece:
                                pieces.put(("piece", piece))
            except BaseException as exc:  # every outcome, cancellation too, must reach the waiting thread
                outcome = ("error", exc)
                raise
            finally:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(call.close())
                pieces.put(outcome)

        future = self._loop.submit(pump())
        received = 0
        try:
            while True:
                try:
                    kind, value = pieces.get(timeout=max(0.0, deadline + GRACE_SECONDS - time.monotonic()))
                except queue.Empty:
                    raise LLMError(self._timeout_message(what, received, call.statuses)) from None
                if kind == "piece":
                    received += 1
                    yield value
                elif kind == "end":
                    if finish.reason is None and self._require_finish:
                        raise LLMError(self._explain(None, what, received))
                    return
                else:
                    raise LLMError(self._explain(value, what, received, call.statuses)) from None
        finally:
            future.cancel()  # the caller stopped early or we gave up: close the request now

    def _timeout_message(self, what: str, received: int, statuses: Sequence[int] = ()) -> str:
        seconds = f"{self.settings.llm_timeout:g} s"
        last = statuses[-1] if statuses else 200
        if last == 429:
            return (f"The model kept answering HTTP 429 (rate limited) for {seconds}: wait and try again, "
                    "or check your quota.")
        if last >= 500:
            return f"The model server kept failing (HTTP {last}) for {seconds}; try again or check the server."
        if received:
            return f"The model's {what} did not finish within {seconds}; raise NEWSDESK_LLM_TIMEOUT."
        return f"The model did not answer within {seconds}; raise NEWSDESK_LLM_TIMEOUT or check the server."

    def _explain(self, exc: BaseException | None, what: str, received: int, statuses: Sequence[int] = ()) -> str:
        """A message that says what to do; server text is included only redacted and shortened."""
        where = f"{self.settings.openai_model} at {_public_url(self.base_url)}"
        if isinstance(exc, (TimeoutError, asyncio.CancelledError, openai.APITimeoutError)):
            return self._timeout_message(what, received, statuses)
        answered = received > 0 or (bool(statuses) and statuses[-1] == 200)  # the stream had begun
        if exc is None or (answered and isinstance(exc, (openai.APIConnectionError, json.JSONDecodeError))):
            message = (
                f"The {what} stream from {where} broke off before it finished"
                if exc is None or isinstance(exc, openai.APIConnectionError)
                else f"The {what} stream from {where} was malformed"
            )
            return message + "; try again, and check the server's log if it keeps happening."
        if isinstance(exc, openai.AuthenticationError):
            return f"Invalid API key for {where} (HTTP 401): set OPENAI_API_KEY (or NEWSDESK_OPENAI_API_KEY)."
        if isinstance(exc, openai.PermissionDeniedError):
            return f"The API key may not use {where} (HTTP 403): check NEWSDESK_OPENAI_MODEL and the key."
        if isinstance(exc, openai.NotFoundError):
            return f"No model {where} (HTTP 404): check NEWSDESK_OPENAI_MODEL and NEWSDESK_OPENAI_BASE_URL."
        if isinstance(exc, openai.RateLimitError):
            return f"{where} is rate-limiting requests (HTTP 429): wait and try again, or check your quota."
        if isinstance(exc, openai.APIStatusError):
            detail = self._redact(re.sub(r"^Error code: \d+ - ", "", exc.message))[:200]
            return f"{where} failed with HTTP {exc.status_code} ({detail}); try again or check the server."
        if isinstance(exc, openai.APIConnectionError):
            reason = self._redact(str(exc.__cause__ or exc))[:120]
            return (f"Could not reach {where} ({reason}): check NEWSDESK_OPENAI_BASE_URL and that the server "
                    "is running.")
        if isinstance(exc, (json.JSONDecodeError, KeyError, TypeError, ValueError, openai.APIError)):
            return f"{where} sent a malformed {what}; check that it speaks the OpenAI chat-completions protocol."
        return f"The {what} from {where} failed ({type(exc).__name__}: {self._redact(str(exc))[:200]})."

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _token_cap(base_url: str, tokens: int) -> dict[str, Any]:
    """The answer-length cap in the field the endpoint understands.

    LangChain sends OpenAI's newer ``max_completion_tokens``; llama.cpp's server and other local servers
    only know ``max_tokens`` and would otherwise generate until their context is full.
    """
    if base_url == OPENAI_URL:
        return {"max_completion_tokens": tokens}
    return {"extra_body": {"max_tokens": tokens}}


def _public_url(url: str) -> str:
    """``url`` without user:password, which some people put in base URLs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")) if parts.scheme else url

