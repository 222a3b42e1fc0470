"""The two answer paths behind one contract (``rag.roles.Answerer``): text pieces as they are made, then the
``Answer`` (text, citations, refused, mode, checks, and the path's own warnings and timings). The pipeline
completes it with the question, the passages shown and the total time.

``ExtractivePath`` adapts ``ExtractiveAnswerer`` (rag/extractive.py) without changing it; ``GenerativePath``
is the LCEL chain of ``GenerativeAnswerer`` (prompt | chat model | parser) followed by grounding.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from langchain_core.embeddings import Embeddings

from rag.extractive import ExtractiveAnswerer
from rag.grounding import ground
from rag.records import REFUSAL, Answer, Passage


class ExtractivePath:
    """The offline answer: verbatim sentences of the passages, in one piece."""

    def __init__(self, extractive: ExtractiveAnswerer) -> None:
        self.extractive = extractive

    def stream(self, question: str, passages: Sequence[Passage], **_: Any) -> Iterator[str | Answer]:
        started = time.perf_counter()
        extract = self.extractive.answer(question, list(passages))
        timings = {"answer": _ms(started)}
        text = REFUSAL if extract.refused else extract.text
        yield text
        yield Answer(question=question, text=text, citations=extract.citations, refused=extract.refused,
                     mode="extractive", timings_ms=timings)


class GenerativePath:
    """A chat model's answer from numbered passages, streamed, then grounded (``rag.grounding``).

    Raises ``LLMError`` (from the model) before the ``Answer``; the pipeline then falls back to the extractive
    path so the user still gets the evidence."""

    def __init__(self, generative: Any, embedder: Embeddings, policy: Literal["flag", "drop", "off"]) -> None:
        self.generative = generative  # a GenerativeAnswerer: stream(question, passages) and context(passages)
        self.embedder = embedder
        self.policy = policy

    def stream(self, question: str, passages: Sequence[Passage], **_: Any) -> Iterator[str | Answer]:
        started = time.perf_counter()
        pieces: list[str] = []
        for piece in self.generative.stream(question, passages):
            pieces.append(piece)
            yield piece
        timings = {"answer": _ms(started)}
        context = self.generative.context(passages)  # the prefix of passages the model saw
        grounded = ground("".join(pieces), context.passages, self.embedder, self.policy)
        if grounded.verify_ms is not None:
            timings["verify"] = grounded.verify_ms
        yield Answer(question=question, text=grounded.text, citations=grounded.citations, refused=grounded.refused,
                     mode="generative", timings_ms=timings, warnings=(context.note,) if context.note else (),
                     checks=grounded.checks)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
