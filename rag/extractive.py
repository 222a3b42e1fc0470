"""The offline answerer: the sentences of the retrieved passages that answer the question, verbatim, each cited.

It cannot say anything the articles do not say. Every candidate sentence is scored by the fitted selector
(``rag.selector``: the probability that it holds the answer, from a model fitted on RealTime QA 2023); when no
sentence reaches the selector's refusal level it refuses. The answer leads with the best sentence; another
joins only when the model rates it nearly as likely to answer, and never when it only restates the question or
repeats a sentence already shown. A chosen sentence that opens by referring back ("She …", "The band …")
comes with the sentence before it, which says who or what that is.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from rag.citations import citation, passage_sentences
from rag.embedder import MiniLMEmbedder
from rag.records import Citation, Passage
from rag.selector import FEATURES, Selector, Span, default_selector, describe, refers_back, stems

SAME_SENTENCE = 0.8  # content-word overlap (Jaccard) above which two sentences say the same thing
MAX_SENTENCES = 3
LONG_SENTENCE = 400  # characters; longer "sentences" (lists, run-ons) are cut into windows at word breaks
_WORD_BREAK = re.compile(r"\s+")
FEATURE_ECHO = FEATURES.index("echo")


@dataclass(frozen=True)
class Scored:
    """A candidate span with the selector's probability that it holds the answer."""

    span: Span
    probability: float
    echo: bool = False


@dataclass(frozen=True)
class Extract:
    text: str
    citations: tuple[Citation, ...]
    refused: bool
    best_score: float


def same_content(a: str, b: str) -> bool:
    """Whether two sentences share nearly all their content words (one outlet's copy of another's).

    >>> same_content("Starbucks brought back the PSL this week.", "This week Starbucks brought back the PSL!")
    True
    """
    x, y = stems(a), stems(b)
    return bool(x | y) and len(x & y) / len(x | y) >= SAME_SENTENCE


def candidates(passages: list[Passage]) -> list[Span]:
    """Sentence (or long-sentence window) candidates from every passage, in passage then text order;
    duplicates across overlapping chunks kept once (the first, best-ranked passage wins)."""
    seen: set[tuple[str, int, int]] = set()
    found: list[Span] = []
    for index, passage in enumerate(passages):
        text = passage.chunk.text
        for lo, hi in passage_sentences(passage):
            for a, b in _windows(text, lo, hi):
                key = (passage.chunk.article_id, passage.chunk.start + a, passage.chunk.start + b)
                if key not in seen:
                    seen.add(key)
                    found.append(Span(index, a, b, text[a:b]))
    return found


def _windows(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    if hi - lo <= LONG_SENTENCE:
        return [(lo, hi)]
    spans, start = [], lo
    while start < hi:
        end = min(start + LONG_SENTENCE, hi)
        if end < hi:
            cut = text.rfind(" ", start + LONG_SENTENCE // 2, end)
            end = cut if cut > start else end
        spans.append((start, end))
        match = _WORD_BREAK.match(text, end)
        start = match.end() if match else end
    return spans


def with_context(chosen: list[Span], passages: list[Passage]) -> list[Span]:
    """``chosen`` (in passage order), each sentence that refers back preceded by the one before it in its
    passage, unless that one is shown already or the passage has none.

    >>> from rag.records import Chunk
    >>> text = "Blink-182 is touring. The band will reunite."
    >>> passage = Passage(Chunk("c", "a", 0, text, 0, len(text)))
    >>> [c.text for c in with_context([Span(0, 22, 44, text[22:44])], [passage])]
    ['Blink-182 is touring.', 'The band will reunite.']
    """
    shown = {(c.passage_index, c.start) for c in chosen}
    out: list[Span] = []
    for c in chosen:
        if refers_back(c.text):
            before = [span for span in passage_sentences(passages[c.passage_index]) if span[1] <= c.start]
            if before and (c.passage_index, before[-1][0]) not in shown:
                lo, hi = before[-1]
                shown.add((c.passage_index, lo))
                out.append(Span(c.passage_index, lo, hi, passages[c.passage_index].chunk.text[lo:hi]))
        out.append(c)
    return out


def ranked(spans: list[Span], rows: np.ndarray, probabilities: np.ndarray) -> list[Scored]:
    """``spans`` with their probabilities, best first (ties: passage order, then text order)."""
    echo = rows[:, FEATURE_ECHO] > 0
    scored = [Scored(s, float(p), bool(e)) for s, p, e in zip(spans, probabilities, echo, strict=True)]
    return sorted(scored, key=lambda c: (-c.probability, c.span.passage_index, c.span.start))


def compose(ranked: list[Scored], passages: list[Passage], answerable: float, level: float, extra: float) -> Extract:
    """The answer made of ``ranked`` (best first): a refusal when ``answerable`` (the fitted probability that
    the passages answer the question) is below ``level``; else the best sentence and up to two more that reach
    ``extra`` times its probability and add something, each with the sentence before it when it refers back,
    in text order, each cited. Restatements of the question are never chosen."""
    # A sentence that only restates the question (a quiz page, a lede the question copied) cannot name what
    # it asks, whatever its score.
    ranked = [c for c in ranked if not c.echo]
    if not ranked or answerable < level:
        return Extract("", (), True, answerable)
    best = ranked[0]
    chosen = [best.span]
    for c in ranked[1:]:
        if len(chosen) == MAX_SENTENCES or c.probability < best.probability * extra:
            break
        # Extra sentences must add something: not another outlet's copy of a kept one.
        if not any(same_content(c.span.text, kept.text) for kept in chosen):
            chosen.append(c.span)
    shown = with_context(sorted(chosen, key=lambda c: (c.passage_index, c.start)), passages)
    text = " ".join(f"{c.text} [{c.passage_index + 1}]" for c in shown)
    cites = tuple(citation(c.passage_index + 1, passages[c.passage_index], c.start, c.end) for c in shown)
    return Extract(text, cites, False, answerable)


class ExtractiveAnswerer:
    """Picks verbatim sentences with the fitted selector; caches sentence vectors because the same passages
    come back often."""

    def __init__(self, embedder: MiniLMEmbedder, selector: Selector | None = None, cache_size: int = 20_000) -> None:
        self.embedder = embedder
        self._selector = selector
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def selector(self) -> Selector:
        """The fitted model (the committed one unless another was handed in), loaded on first use."""
        if self._selector is None:
            self._selector = default_selector()
        return self._selector

    def features(self, question: str, passages: list[Passage]) -> tuple[list[Span], np.ndarray]:
        """The candidate spans of ``passages`` and their feature rows (``rag.selector.FEATURES``)."""
        found = candidates(passages)
        if not found:
            return [], describe(question, passages, found, np.zeros(0))
        query = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        dense = self._vectors([c.text for c in found]) @ query
        return found, describe(question, passages, found, dense)

    def score(self, question: str, passages: list[Passage]) -> tuple[list[Scored], float]:
        """Every candidate with the selector's probability, best first, and P(the passages answer at all)."""
        found, rows = self.features(question, passages)
        if not found:
            return [], 0.0
        probabilities = self.selector.probabilities(rows)
        return ranked(found, rows, probabilities), self.selector.answerable(question, passages, rows, probabilities)

    def answer(self, question: str, passages: list[Passage]) -> Extract:
        """The extract for ``question``, or a refusal when the passages are unlikely to answer it."""
        scored, answerable = self.score(question, passages)
        return compose(scored, passages, answerable, self.selector.level, self.selector.extra)

    def _vectors(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = dict(zip(missing, self.embedder.embed_array(missing), strict=True))
            known.update(fresh)
            with self._lock:
                self._cache.update(fresh)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return np.stack([known[t] for t in texts])
