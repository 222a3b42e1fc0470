"""The composition root: the one place that wires settings → embedder, store, BM25, retriever, answerers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from rag.citations import cite_markers
from rag.embedder import MiniLMEmbedder
from rag.errors import EmptyIndexError, LLMError
from rag.extractive import ExtractiveAnswerer
from rag.lexical import LexicalIndex
from rag.questions import History, standalone_question, validate_question
from rag.records import REFUSAL, Answer, Citation, Passage, SentenceCheck
from rag.retrieve import HybridRetriever, NewsdeskRetriever
from rag.settings import Settings
from rag.store import Filters, Store
from rag.time_query import Timed, timed_search

LEAD_PASSAGES = 3
BUNDLED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@dataclass
class Status:
    """What `newsdesk status` and the page sidebar show."""

    data_dir: str
    store: str
    collection: str
    articles: int
    chunks: int
    embedder: str
    chunking: str
    last_ingest: str
    answer_mode: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Pipeline:
    """Everything a question or an ingest needs, built once per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedder = MiniLMEmbedder()
        self.store = Store(settings, self.embedder.id, self.embedder.dimension)
        self.lexical = LexicalIndex(settings.lexical_dir)
        self._lexical_lock = threading.Lock()
        self.retriever = HybridRetriever(settings, self.embedder, self.store, self.fresh_lexical)
        self.extractive = ExtractiveAnswerer(self.embedder)
        self._generative: Any = None

    def status(self) -> Status:
        """Counts and provenance of the index; zero counts (not an error) when nothing is ingested yet."""
        exists = self.store.exists()
        articles, chunks = self.store.counts() if exists else (0, 0)
        info = self.store.info() if exists else {}
        return Status(
            data_dir=str(self.settings.data_dir),
            store=self.store.location,
            collection=self.settings.collection,
            articles=articles,
            chunks=chunks,
            embedder=self.embedder.id,
            chunking=self.store.chunking,
            last_ingest=str(info.get("last_ingest", "")),
            answer_mode=self.answer_mode,
        )

    @property
    def answer_mode(self) -> str:
        if self.settings.generative:
            return f"generative ({self.settings.openai_model})"
        return "extractive (offline)"

    def fresh_lexical(self) -> LexicalIndex:
        """The BM25 index, reloaded or rebuilt when the store has moved on since it was built."""
        with self._lexical_lock:
            generation = str(self.store.info().get("generation", ""))
            stale = self.lexical.generation != generation
            if stale and (not self.lexical.load() or self.lexical.generation != generation):
                self.lexical.build(self.store.iter_chunks(), generation)
            return self.lexical

    @property
    def generative(self) -> Any:
        """The LLM answerer, created on first use (only when a key or endpoint is configured)."""
        if self._generative is None:
            from rag.generative import GenerativeAnswerer

            self._generative = GenerativeAnswerer(self.settings)
        return self._generative

    def as_retriever(self, k: int | None = None, filters: Filters = Filters()) -> NewsdeskRetriever:
        """The hybrid retriever as a LangChain ``BaseRetriever``."""
        return NewsdeskRetriever(search_fn=self.retrieve, k=k or self.settings.k, filters=filters)

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        filters: Filters = Filters(),
        asked_on: str | None = None,
        lead_passages: int = 1,
    ) -> list[Passage]:
        """The best passages for ``question`` (hybrid, fused, one per article while others remain), favouring
        articles from just before ``asked_on`` when it is given; ``EmptyIndexError`` when nothing is indexed.

        ``lead_passages`` > 1 adds the best article's next-best passages after its best one (see
        ``HybridRetriever.search``). Without ``asked_on``, a question is asked today (``NEWSDESK_RECENCY``)."""
        return self.retrieve_timed(question, k, filters, asked_on, lead_passages).passages

    def retrieve_timed(
        self,
        question: str,
        k: int | None = None,
        filters: Filters = Filters(),
        asked_on: str | None = None,
        lead_passages: int = 1,
    ) -> Timed:
        """``retrieve``, with what was searched: the question's time words (rag/time_query.py) narrow the dates
        and set the recency preference unless ``NEWSDESK_TIME_WORDS=false``."""
        if asked_on is None and self.settings.recency:
            asked_on = date.today().isoformat()
        # --- time-words hook: rag/time_query.py decides the date filter and recency weight of each search ---
        timed = timed_search(self.retriever.search, question, k, filters, asked_on, lead_passages,
                             enabled=self.settings.time_words)  # raises when no collection
        passages = timed.passages
        if not passages and self.store.counts()[1] == 0:  # counted only when nothing came back: saves a round trip
            raise EmptyIndexError(
                "No articles indexed yet. Run `newsdesk ingest PATH` (or `newsdesk ingest` for the bundled corpus)."
            )
        return timed

    def answer(
        self,
        question: str,
        history: History = (),
        k: int | None = None,
        filters: Filters = Filters(),
        asked_on: str | None = None,
    ) -> Answer:
        """Answer ``question`` from the articles; see ``stream`` for the pieces as they are made."""
        final: Answer | None = None
        for item in self.stream(question, history, k, filters, asked_on):
            if isinstance(item, Answer):
                final = item
        assert final is not None  # stream always ends with the Answer
        return final

    def stream(
        self,
        question: str,
        history: History = (),
        k: int | None = None,
        filters: Filters = Filters(),
        asked_on: str | None = None,
    ) -> Iterator[str | Answer]:
        """Text pieces as they are produced, then the complete ``Answer``.

        Offline (extractive) answers arrive in one piece. Generative answers stream from the LLM; if the LLM
        fails, a warning and the extractive answer follow instead, so the user always gets the evidence.
        """
        timings: dict[str, float] = {}
        started = time.perf_counter()
        question = validate_question(question)
        warnings: list[str] = []
        standalone = question
        if history:
            standalone = self._condense(question, history, warnings)
        timings["condense"] = _ms(started)
        t0 = time.perf_counter()
        # The answer reads three passages of the likeliest article: an answer often sits just past the passage
        # that matched the question (RealTime QA, full corpus: accuracy 0.591 → 0.609 → 0.618 with one, two and
        # three; gold articles only 0.486 → 0.523 → 0.536; about 20 ms more per answer than two).
        timed = self.retrieve_timed(standalone, k, filters, asked_on, lead_passages=LEAD_PASSAGES)  # time-words hook
        found, searched = timed.passages, timed.searched
        warnings.extend(timed.warnings)
        # Answers read passages with text; pages known only by their headline follow as links. Kept after the
        # others, so the [n] an answer cites is the nth passage of the list the page shows.
        passages = [p for p in found if p.chunk.text]
        links = [p for p in found if not p.chunk.text]
        timings["retrieve"] = _ms(t0)
        t0 = time.perf_counter()
        if self.settings.generative and passages:
            pieces: list[str] = []
            try:
                for piece in self.generative.stream(standalone, passages):
                    pieces.append(piece)
                    yield piece
            except LLMError as exc:
                warnings.append(f"{exc} Showing the best sentences from the articles instead.")
                if pieces:
                    yield "\n\n"
            else:
                timings["answer"] = _ms(t0)
                yield replace(self._generated_answer(
                    question, standalone, "".join(pieces), passages, links, timings, warnings, started
                ), searched=searched)
                return
        extract = self.extractive.answer(standalone, passages)
        timings["answer"] = _ms(t0)
        text = REFUSAL if extract.refused else extract.text
        yield text
        timings["total"] = _ms(started)
        mode = "extractive" if not warnings or not self.settings.generative else "extractive-fallback"
        yield Answer(
            question=question,
            text=text,
            citations=extract.citations,
            passages=(*passages, *links),
            refused=extract.refused,
            mode=mode,
            timings_ms=timings,
            warnings=tuple(warnings),
            standalone_question=standalone,
            searched=searched,
        )

    def _condense(self, question: str, history: History, warnings: list[str]) -> str:
        if self.settings.generative:
            try:
                return str(self.generative.condense(question, history)).strip() or question
            except LLMError as exc:
                warnings.append(f"Could not rewrite the follow-up with the model ({exc}); used it as asked.")
        return standalone_question(question, history)

    def _generated_answer(
        self,
        question: str,
        standalone: str,
        raw: str,
        passages: list[Passage],
        links: list[Passage],
        timings: dict[str, float],
        warnings: list[str],
        started: float,
    ) -> Answer:
        from rag.markers import repair_markers
        from rag.verify import apply_policy, cite_unmarked, span_citations, verify

        context = self.generative.context(passages)
        fitted = list(context.passages)  # what the model saw: a prefix of passages
        if context.note:
            warnings.append(context.note)
        text = repair_markers(raw, len(fitted)).strip()
        checks: tuple[SentenceCheck, ...] = ()
        if text and not _is_refusal(text) and self.settings.verify != "off":
            t0 = time.perf_counter()
            checks = verify(text, fitted, self.embedder)
            text, checks = apply_policy(text, checks, self.settings.verify)
            text = cite_unmarked(text, checks)
            timings["verify"] = _ms(t0)
        refused = not text or _is_refusal(text)
        timings["total"] = _ms(started)
        return Answer(
            question=question,
            text=REFUSAL if refused else text,
            citations=() if refused else _merge_citations(span_citations(checks, fitted), cite_markers(text, fitted)),
            passages=(*passages, *links),
            refused=refused,
            mode="generative",
            timings_ms=timings,
            warnings=tuple(warnings),
            checks=() if refused else checks,
            standalone_question=standalone,
        )


def _merge_citations(from_spans: list[Citation], from_markers: tuple[Citation, ...]) -> tuple[Citation, ...]:
    """The verifier's supporting spans, plus a best-matching sentence for any marker no span covers."""
    covered = {c.n for c in from_spans}
    unique = {(c.n, c.start, c.end): c for c in [*from_spans, *(c for c in from_markers if c.n not in covered)]}
    return tuple(sorted(unique.values(), key=lambda c: (c.n, c.start)))


def _is_refusal(text: str) -> bool:
    """The model's answer is the refusal sentence (give or take punctuation and a trailing remark)."""
    return text.startswith(REFUSAL[:-1]) and len(text) <= len(REFUSAL) + 10


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


def build_pipeline(settings: Settings | None = None) -> Pipeline:
    """The composition root: CLI, page, eval and tests all start here."""
    return Pipeline(settings or Settings())
