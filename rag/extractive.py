"""The offline answerer: the best one to three sentences of the retrieved passages, verbatim, each cited.

It cannot say anything the articles do not say. Each candidate sentence is scored by
``DENSE_WEIGHT * cosine(question, sentence) + LEXICAL_WEIGHT * share of the question's content words it holds``,
minus ``TYPE_PENALTY`` when the question asks for a number, a time or a person and the sentence holds none
(``rag.answer_types``); below ``threshold`` for the best sentence, it refuses. A chosen sentence that opens by
referring back ("She …", "The band …") comes with the sentence before it, which says who or what that is.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from rag.answer_types import answer_type, could_answer, names_something_new
from rag.citations import citation, content_stems, passage_sentences
from rag.embedder import MiniLMEmbedder
from rag.records import Citation, Passage

DENSE_WEIGHT = 0.7
LEXICAL_WEIGHT = 0.3
TYPE_PENALTY = 0.15
NOVELTY_WEIGHT = 0.15  # a sentence naming something the question does not (a name, a number) may hold the answer
DEFAULT_THRESHOLD = 0.58  # calibrated by eval/calibrate_refusal.py: see eval/README.md ("Refusal threshold")
ECHO_PENALTY = 0.4  # a sentence that only restates the question (a quiz page, a lede the question copied) is no answer
ECHO_SHARE = 0.2  # ... has fewer than this share of content words that the question lacks
SAME_SENTENCE = 0.8  # content-word overlap (Jaccard) above which two sentences say the same thing
EXTRA_MARGIN = 0.2  # a second/third sentence joins when it scores within this of the best
MAX_SENTENCES = 3
LONG_SENTENCE = 400  # characters; longer "sentences" (lists, run-ons) are cut into windows at word breaks
_WORD_BREAK = re.compile(r"\s+")
# A pronoun, or "The" and a common noun: the sentence names its subject somewhere before it. RealTime QA, full
# corpus: accuracy 0.600 → 0.618 with the sentence before shown (pronouns alone: 0.600), answers p50 467 → 510
# characters.
_REFERS_BACK = re.compile(r"^[\"“‘(]?(?:(?:He|She|It|They|His|Her|Its|Their|This|These|Those)\b|The [a-z])")


@dataclass(frozen=True)
class Candidate:
    passage_index: int
    start: int  # chunk-relative
    end: int
    text: str
    dense: float = 0.0
    lexical: float = 0.0
    typed: bool = True  # holds the kind of answer the question asks for
    novel: bool = False  # names something (capitalised word, number) that the question does not
    echo: bool = False  # says (almost) nothing the question does not already say

    @property
    def score(self) -> float:
        penalty = (0.0 if self.typed else TYPE_PENALTY) + (ECHO_PENALTY if self.echo else 0.0)
        return DENSE_WEIGHT * self.dense + LEXICAL_WEIGHT * self.lexical + NOVELTY_WEIGHT * self.novel - penalty


@dataclass(frozen=True)
class Extract:
    text: str
    citations: tuple[Citation, ...]
    refused: bool
    best_score: float


@functools.lru_cache(maxsize=4096)
def _stems(text: str) -> frozenset[str]:
    # Cached: the question is compared with every candidate sentence, and each sentence by two measures.
    return frozenset(content_stems(text))


def lexical_overlap(question: str, sentence: str) -> float:
    """Share of the question's content words (folded plurals) that the sentence contains.

    >>> lexical_overlap("Which company lobbies the White House?", "The company lobbied the White House.")
    0.75
    """
    wanted = _stems(question)
    return len(wanted & _stems(sentence)) / len(wanted) if wanted else 0.0


def echoes(question: str, sentence: str) -> bool:
    """Whether ``sentence`` adds (almost) no content word to ``question``: a restatement, not an answer.

    >>> echoes("Which iconic landmark is riddled with rust?", "Which iconic landmark is riddled with rust?")
    True
    >>> echoes("Which landmark is riddled with rust?", "The Eiffel Tower is riddled with rust, reports say.")
    False
    """
    said = _stems(sentence)
    if not said:
        return True
    return len(said - _stems(question)) / len(said) < ECHO_SHARE


def same_content(a: str, b: str) -> bool:
    """Whether two sentences share nearly all their content words (one outlet's copy of another's).

    >>> same_content("Starbucks brought back the PSL this week.", "This week Starbucks brought back the PSL!")
    True
    """
    x, y = _stems(a), _stems(b)
    return bool(x | y) and len(x & y) / len(x | y) >= SAME_SENTENCE


def candidates(passages: list[Passage]) -> list[Candidate]:
    """Sentence (or long-sentence window) candidates from every passage, duplicates across overlapping
    chunks kept once (the first, best-ranked passage wins)."""
    seen: set[tuple[str, int, int]] = set()
    found: list[Candidate] = []
    for index, passage in enumerate(passages):
        text = passage.chunk.text
        for lo, hi in passage_sentences(passage):
            for a, b in _windows(text, lo, hi):
                key = (passage.chunk.article_id, passage.chunk.start + a, passage.chunk.start + b)
                if key not in seen:
                    seen.add(key)
                    found.append(Candidate(index, a, b, text[a:b]))
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


def with_context(chosen: list[Candidate], passages: list[Passage]) -> list[Candidate]:
    """``chosen`` (in passage order), each sentence that refers back preceded by the one before it in its
    passage, unless that one is shown already or the passage has none.

    >>> from rag.records import Chunk
    >>> text = "Blink-182 is touring. The band will reunite."
    >>> passage = Passage(Chunk("c", "a", 0, text, 0, len(text)))
    >>> [c.text for c in with_context([Candidate(0, 22, 44, text[22:44])], [passage])]
    ['Blink-182 is touring.', 'The band will reunite.']
    """
    shown = {(c.passage_index, c.start) for c in chosen}
    out: list[Candidate] = []
    for c in chosen:
        if _REFERS_BACK.match(c.text):
            before = [span for span in passage_sentences(passages[c.passage_index]) if span[1] <= c.start]
            if before and (c.passage_index, before[-1][0]) not in shown:
                lo, hi = before[-1]
                shown.add((c.passage_index, lo))
                out.append(Candidate(c.passage_index, lo, hi, passages[c.passage_index].chunk.text[lo:hi]))
        out.append(c)
    return out


class ExtractiveAnswerer:
    """Picks verbatim sentences; caches sentence vectors because the same passages come back often."""

    def __init__(
        self, embedder: MiniLMEmbedder, threshold: float = DEFAULT_THRESHOLD, cache_size: int = 20_000
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def score(self, question: str, passages: list[Passage]) -> list[Candidate]:
        """Every candidate sentence with its dense and lexical scores, best first."""
        found = candidates(passages)
        if not found:
            return []
        query = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        vectors = self._vectors([c.text for c in found])
        dense = vectors @ query
        kind = answer_type(question)
        scored = [
            Candidate(
                c.passage_index,
                c.start,
                c.end,
                c.text,
                float(d),
                lexical_overlap(question, c.text),
                could_answer(kind, c.text, question),
                names_something_new(c.text, question),
                echoes(question, c.text),
            )
            for c, d in zip(found, dense, strict=True)
        ]
        return sorted(scored, key=lambda c: (-c.score, c.passage_index, c.start))

    def answer(self, question: str, passages: list[Passage]) -> Extract:
        """The extract for ``question``, or a refusal when the best sentence scores below the threshold."""
        ranked = self.score(question, passages)
        if not ranked or ranked[0].score < self.threshold:
            return Extract("", (), True, ranked[0].score if ranked else 0.0)
        best = ranked[0]
        chosen = [best]
        for c in ranked[1:]:
            if len(chosen) == MAX_SENTENCES or c.score < best.score - EXTRA_MARGIN:
                break
            # Extra sentences must add something: not the question again, not another outlet's copy of a kept one.
            if not c.echo and not any(same_content(c.text, kept.text) for kept in chosen):
                chosen.append(c)
        chosen = with_context(sorted(chosen, key=lambda c: (c.passage_index, c.start)), passages)
        text = " ".join(f"{c.text} [{c.passage_index + 1}]" for c in chosen)
        cites = tuple(citation(c.passage_index + 1, passages[c.passage_index], c.start, c.end) for c in chosen)
        return Extract(text, cites, False, best.score)

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
