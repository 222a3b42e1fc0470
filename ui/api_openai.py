"""OpenAI's chat protocol ↔ newsdesk: messages to a question and its history, answers to completions.

Where the citations go (documented in README, "HTTP API"): a completion, and the last chunk of a stream,
carry a top-level ``citations`` list (``[n]`` in the text is ``citations[n-1]``, the source's URL, as
Perplexity's API does) and a ``newsdesk`` object with the full citation records. Clients built on OpenAI's
SDKs keep unknown top-level fields (``model_extra`` in Python), so nothing is lost on the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from rag.errors import InputError
from rag.filters import Filters
from rag.records import Answer
from rag.tokens import count_tokens
from ui.answer_json import answer_json
from ui.api_models import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    Choice,
    ChunkChoice,
    Delta,
    NewsdeskExtra,
    Options,
    Usage,
)


def message_text(message: ChatMessage) -> str:
    """A message's text: its string content, or its text parts joined (images and the like are skipped)."""
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    return "\n".join(part.text for part in message.content if part.type == "text" and part.text)


def split_messages(messages: Sequence[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last message, which must be the user's) and the earlier (question, answer) pairs.

    System and tool messages are left out: newsdesk answers from its articles with its own rules.
    """
    turns = [m for m in messages if m.role in {"user", "assistant"}]
    if not turns or turns[-1].role != "user":
        raise InputError(
            "The last message must be the user's question: end `messages` with {\"role\": \"user\", "
            "\"content\": \"…\"}."
        )
    history: list[tuple[str, str]] = []
    for message in turns[:-1]:
        if message.role == "user":
            history.append((message_text(message), ""))
        elif history and not history[-1][1]:
            history[-1] = (history[-1][0], message_text(message))
        # an assistant message with no question before it (a greeting) says nothing about the articles
    return message_text(turns[-1]), history


def call_options(options: Options) -> dict[str, Any]:
    """``Options`` as the keyword arguments of ``Newsdesk.ask``/``stream``."""
    filters = Filters(
        sources=tuple(options.sources),
        since=options.since.isoformat() if options.since else "",
        until=options.until.isoformat() if options.until else "",
    )
    return {"k": options.k, "filters": filters, "asked_on": options.as_of.isoformat() if options.as_of else None}


def citation_urls(answer: Answer, base_url: str) -> list[str]:
    """The URL of every source the answer could cite, in ``[n]`` order; an article with no web address gets
    its API address (``<base>/v1/articles/<id>``), so every entry opens something."""
    if answer.refused:
        return []
    return [
        p.chunk.url or f"{base_url.rstrip('/')}/v1/articles/{quote(p.chunk.article_id, safe='')}"
        for p in answer.passages
    ]


def extra(answer: Answer) -> NewsdeskExtra:
    """The ``newsdesk`` object: the kept answer and the same citation records as `newsdesk ask --json`."""
    record = answer_json(answer)
    return NewsdeskExtra(
        answer=answer.text,
        refused=answer.refused,
        mode=answer.mode,
        citations=record["citations"],
        warnings=record["warnings"],
        standalone_question=answer.standalone_question,
    )


def usage(answer: Answer) -> Usage:
    """Tokens (cl100k) of the question as searched and of the answer: what a client's counter expects."""
    asked, said = count_tokens(answer.standalone_question or answer.question), count_tokens(answer.text)
    return Usage(prompt_tokens=asked, completion_tokens=said, total_tokens=asked + said)


def completion(answer: Answer, *, model: str, completion_id: str, created: int, base_url: str) -> ChatCompletion:
    """A non-streamed completion with the answer text (``[n]`` markers kept) and its citations."""
    return ChatCompletion(
        id=completion_id,
        created=created,
        model=model,
        choices=[Choice(message=AssistantMessage(content=answer.text))],
        usage=usage(answer),
        citations=citation_urls(answer, base_url),
        newsdesk=extra(answer),
    )


def text_chunk(text: str | None, *, model: str, completion_id: str, created: int, first: bool = False) -> str:
    """One streamed piece as the JSON of a ``chat.completion.chunk`` (the first also names the role)."""
    delta = Delta(role="assistant", content=text or "") if first else Delta(content=text)
    chunk = ChatCompletionChunk(id=completion_id, created=created, model=model, choices=[ChunkChoice(delta=delta)])
    return chunk.model_dump_json(exclude_none=True)


def final_chunk(
    answer: Answer, *, model: str, completion_id: str, created: int, base_url: str, include_usage: bool
) -> str:
    """The closing chunk: ``finish_reason`` "stop", ``citations`` and ``newsdesk`` (and ``usage`` if asked)."""
    chunk = ChatCompletionChunk(
        id=completion_id,
        created=created,
        model=model,
        choices=[ChunkChoice(delta=Delta(), finish_reason="stop")],
        usage=usage(answer) if include_usage else None,
        citations=citation_urls(answer, base_url),
        newsdesk=extra(answer),
    )
    return chunk.model_dump_json(exclude_none=True)
