"""Grounding, the last step of the generative path: a model's raw answer made checkable.

Markers the model got wrong are repaired, each sentence is verified against the passages the model saw
(flagged, dropped or left alone per ``NEWSDESK_VERIFY``), unmarked supported sentences get their citation,
and the citations are the verifier's supporting spans plus a best-matching sentence for any other marker.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from langchain_core.embeddings import Embeddings

from rag.citations import cite_markers
from rag.claims import is_refusal
from rag.markers import repair_markers
from rag.records import REFUSAL, Citation, Passage, SentenceCheck
from rag.verify import apply_policy, cite_unmarked, span_citations, verify


@dataclass(frozen=True)
class Grounded:
    """What grounding made of a raw answer."""

    text: str
    citations: tuple[Citation, ...]
    checks: tuple[SentenceCheck, ...]
    refused: bool
    verify_ms: float | None = None  # None when nothing was verified


def ground(
    raw: str, fitted: Sequence[Passage], embedder: Embeddings, policy: Literal["flag", "drop", "off"]
) -> Grounded:
    """``raw`` (the model's text, ``[n]`` meaning ``fitted[n-1]``) repaired, verified and cited."""
    fitted = list(fitted)
    text = repair_markers(raw, len(fitted)).strip()
    checks: tuple[SentenceCheck, ...] = ()
    verify_ms = None
    if text and not is_refusal(text) and policy != "off":
        t0 = time.perf_counter()
        checks = verify(text, fitted, embedder)
        text, checks = apply_policy(text, checks, policy)
        text = cite_unmarked(text, checks)
        verify_ms = round((time.perf_counter() - t0) * 1000, 2)
    if not text or is_refusal(text):
        return Grounded(REFUSAL, (), (), True, verify_ms)
    citations = merge_citations(span_citations(checks, fitted), cite_markers(text, fitted))
    return Grounded(text, citations, checks, False, verify_ms)


def merge_citations(from_spans: list[Citation], from_markers: tuple[Citation, ...]) -> tuple[Citation, ...]:
    """The verifier's supporting spans, plus a best-matching sentence for any marker no span covers."""
    covered = {c.n for c in from_spans}
    unique = {(c.n, c.start, c.end): c for c in [*from_spans, *(c for c in from_markers if c.n not in covered)]}
    return tuple(sorted(unique.values(), key=lambda c: (c.n, c.start)))
