"""The query path: a question through retrieval and an answer path to an ``Answer``, and ``build_pipeline``,
the one place that wires settings → embedder, store, BM25, retrieval stages and answerers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from rag.answerers import ExtractivePath, GenerativePath
from rag.embedder import MiniLMEmbedder
from rag.errors import EmptyIndexError, LLMError
from rag.extractive import ExtractiveAnswerer
from rag.filters import Filters
from rag.lexical import LexicalIndex
from rag.questions import History, standalone_question, validate_question
from rag.records import Answer, Passage
from rag.retrieval import HybridRetriever
from rag.retrieval.expansion import LeadConfig
from rag.roles import Retriever, StoryMap
from rag.settings import Settings
from rag.store import Store
from rag.streaming import AnswerStream
from rag.time_query import Timed, timed_search

LEAD = LeadConfig()
LEAD_PASSAGES = LEAD.answer_reads  # the name eval/calibrate_refusal.py reads
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


class FreshLexical:
    """The BM25 index, reloaded or rebuilt when the store has moved on since it was built (callable)."""

    def __init__(self, store: Store, index: LexicalIndex) -> None:
        self.store = store
        self.index = index
        self._lock = threading.Lock()

    def __call__(self) -> LexicalIndex:
        with self._lock:
            generation = str(self.store.info().get("generation", ""))
            stale = self.index.generation != generation
            if stale and (not self.index.load() or self.index.generation != generation):
                self.index.build(self.store.iter_chunks(), generation)
            return self.index


class Pipeline:
    """The query path: a question through retrieval and an answerer to an ``Answer``. Handed its parts by
    ``build_pipeline`` (or a test); it builds none of them."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: MiniLMEmbedder,
        store: Store,
        lexical: FreshLexical,
        retriever: Retriever,
        extractive: ExtractiveAnswerer,
        generative: Callable[[], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self._fresh = lexical
        self.lexical = lexical.index
        self.retriever = retriever
        self.extractive = extractive
        self.extractive_path = ExtractivePath(extractive)
        self._make_generative = generative
        self._generative: Any = None
        self._generative_path: GenerativePath | None = None

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
        return self._fresh()

    @property
    def generative(self) -> Any:
        """The LLM answerer, created on first use (only when a key or endpoint is configured)."""
        if self._generative is None:
            if self._make_generative is None:
                raise LLMError("No language model is configured: set OPENAI_API_KEY or NEWSDESK_OPENAI_BASE_URL.")
            self._generative = self._make_generative()
        return self._generative

    @property
    def generative_path(self) -> GenerativePath:
        """The model's answer followed by grounding (``rag.answerers``), created on first use."""
        if self._generative_path is None:
            self._generative_path = GenerativePath(self.generative, self.embedder, self.settings.verify)
        return self._generative_path

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
        and set this search's date weight unless ``NEWSDESK_TIME_WORDS=false``."""
        if asked_on is None and self.settings.recency:
            asked_on = date.today().isoformat()
        # rag/time_query.py decides each search's date filter and date weight (the DatePrior stage reads it).
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
        return AnswerStream(self.stream(question, history, k, filters, asked_on)).final()

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
        # The answer reads further into the likeliest article (LeadConfig says why and where it was measured).
        timed = self.retrieve_timed(standalone, k, filters, asked_on, lead_passages=LEAD.answer_reads)
        found, searched = timed.passages, timed.searched  # searched: the date range the time words chose
        warnings.extend(timed.warnings)
        # Answers read passages with text; pages known only by their headline follow as links. Kept after the
        # others, so the [n] an answer cites is the nth passage of the list the page shows.
        passages = [p for p in found if p.chunk.text]
        links = [p for p in found if not p.chunk.text]
        timings["retrieve"] = _ms(t0)
        if self.settings.generative and passages:
            stream = AnswerStream(self.generative_path.stream(standalone, passages))
            streamed = False
            try:
                for piece in stream:
                    streamed = True
                    yield piece
                generated = stream.final()
            except LLMError as exc:
                warnings.append(f"{exc} Showing the best sentences from the articles instead.")
                if streamed:
                    yield "\n\n"
            else:
                yield self._complete(
                    generated, question, standalone, passages, links, timings, warnings, started, searched
                )
                return
        # Retrieval reads the rewritten follow-up, the selector the question as asked: the borrowed words
        # would make every sentence that repeats the topic look like an answer to it.
        stream = AnswerStream(self.extractive_path.stream(question, passages))
        yield from stream
        extracted = stream.final()
        if warnings and self.settings.generative:
            extracted = replace(extracted, mode="extractive-fallback")
        yield self._complete(extracted, question, standalone, passages, links, timings, warnings, started, searched)

    def _complete(
        self,
        answer: Answer,
        question: str,
        standalone: str,
        passages: list[Passage],
        links: list[Passage],
        timings: dict[str, float],
        warnings: list[str],
        started: float,
        searched: tuple[str, str] | None = None,
    ) -> Answer:
        """An answer path's ``Answer`` with what the pipeline knows: the question as asked and as rewritten,
        the passages shown (links last), every timing and warning, and the date range searched."""
        timings = {**timings, **answer.timings_ms, "total": _ms(started)}
        also = {p.chunk.article_id: p.also for p in passages if p.also}  # a story's other pages (OneStory)
        citations = tuple(replace(c, also=also[c.article_id]) if c.article_id in also else c for c in answer.citations)
        return replace(
            answer,
            citations=citations,
            question=question,
            passages=(*passages, *links),
            timings_ms=timings,
            warnings=(*warnings, *answer.warnings),
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


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


def build_pipeline(
    settings: Settings | None = None,
    *,
    embedder: MiniLMEmbedder | None = None,
    chat_model: Any = None,
    stories: StoryMap | None = None,
) -> Pipeline:
    """The composition root of the query path: settings → embedder, store, BM25, retriever, answerers.

    ``embedder`` hands in an already loaded model (tests share one per session) instead of loading another;
    ``chat_model`` any LangChain ``BaseChatModel`` for the generative path (default: ``ChatOpenAI`` from the
    settings), e.g. ``ChatOllama(model="llama3.2")``; ``stories`` the story groups made at ingest (retrieval
    then shows each story once; ``ingest.service.build_service`` hands them in)."""
    settings = settings or Settings()
    embedder = embedder or MiniLMEmbedder()
    store = Store(settings, embedder.id, embedder.dimension)
    lexical = FreshLexical(store, LexicalIndex(settings.lexical_dir))

    def generative() -> Any:
        from rag.generative import GenerativeAnswerer  # LangChain's OpenAI client loads only when a model is used

        return GenerativeAnswerer(settings, chat_model=chat_model)

    return Pipeline(
        settings,
        embedder=embedder,
        store=store,
        lexical=lexical,
        retriever=HybridRetriever(settings, embedder, store, lexical, stories=stories),
        extractive=ExtractiveAnswerer(embedder),
        generative=generative,
    )
