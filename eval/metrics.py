"""The scoring rules of ``newsdesk eval``, as pure functions (eval/README.md states them in prose).

Everything here works on plain values and ``Row`` records, so newsdesk and the baseline are scored by the
same code, and every rule has a hand-made test case in tests/eval/test_metrics.py.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from eval.questions import Question
from rag.urls import canonical_url

RANKS = (1, 5, 10)  # Recall@k for these k; MRR is cut at the largest
DEPTH = max(RANKS)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_SPACE = re.compile(r"\s+")


def normalize_answer(text: str) -> str:
    """Lower case; punctuation, quotes and symbols ($ % & …) turned into spaces; a/an/the dropped; spaces collapsed.

    >>> normalize_answer("“Squid Game”"), normalize_answer("The U.S.-China  race!"), normalize_answer("$19.5m")
    ('squid game', 'u s china race', '19 5m')
    """
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text.lower())
    return _SPACE.sub(" ", _ARTICLES.sub(" ", text)).strip()


def keywords_match(text: str, keywords: Sequence[str]) -> bool:
    """Every keyword occurs in ``text``, ignoring case and runs of white space (a plain substring test).

    >>> keywords_match("Backed by  AMAZON.", ["amazon", "backed by"]), keywords_match("Amazon", ["Google"])
    (True, False)
    """
    folded = _SPACE.sub(" ", text.casefold())
    return all(_SPACE.sub(" ", k.casefold().strip()) in folded for k in keywords)


def answer_correct(question: Question, text: str, refused: bool) -> bool:
    """Whether an answer to an *answerable* question is right.

    Not a refusal, and: with keywords, every keyword is in the text; without, the normalised reference
    occurs in the normalised text as whole words ("5" does not match "50").

    >>> q = Question(id="1", question="Which show?", answer="“Squid Game”")
    >>> answer_correct(q, "Netflix renewed Squid Game.", False), answer_correct(q, "Squid Games", False)
    (True, False)
    """
    if refused:
        return False
    if question.keywords:
        return keywords_match(text, question.keywords)
    reference = normalize_answer(question.answer)
    return bool(reference) and f" {reference} " in f" {normalize_answer(text)} "


def row_correct(question: Question, text: str, refused: bool) -> bool:
    """A row is right when an answerable question is answered correctly or an unanswerable one is refused."""
    return answer_correct(question, text, refused) if question.answerable else refused


def normalize_source(value: str) -> str:
    """A source or article id in the form both sides are compared in.

    A URL becomes the page it names (``rag.urls.canonical_url``: no scheme, ``www.``, ``#fragment`` such as
    RealTime QA's ``#:~:text=`` highlights, tracking parameters, trailing slash or ``index.html``), so a gold
    page retrieved under another of its addresses counts; anything else (a file id) is only stripped.

    >>> normalize_source("https://www.CNN.com/2022/06/12/a/index.html#:~:text=The%20company")
    'cnn.com/2022/06/12/a'
    >>> normalize_source("http://cnn.com/x/?p=1&utm_source=feed"), normalize_source(" 000_78dbcec5bdb2f3cc.txt ")
    ('cnn.com/x?p=1', '000_78dbcec5bdb2f3cc.txt')
    """
    return canonical_url(value) or value.strip()


def first_relevant_rank(retrieved: Sequence[tuple[str, str]], sources: Iterable[str]) -> int | None:
    """1-based rank of the first retrieved (article_id, url) that matches a source by id or url; else None.

    >>> first_relevant_rank([("a", ""), ("b", "http://x.org/b/"), ("c", "")], ["https://www.x.org/b#top"])
    2
    """
    wanted = {normalize_source(s) for s in sources} - {""}
    for rank, (article_id, url) in enumerate(retrieved, start=1):
        if normalize_source(article_id) in wanted or (url and normalize_source(url) in wanted):
            return rank
    return None


def recall_at(rank: int | None, k: int) -> float:
    """1.0 when a source is among the top ``k`` passages, else 0.0."""
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None, k: int = DEPTH) -> float:
    """1/rank of the first relevant passage when it is within the top ``k``, else 0.0 (MRR@k per question)."""
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def citation_valid(quote: str, start: int, end: int, article_text: str | None) -> bool:
    """A citation is valid when its non-empty quote is exactly ``article_text[start:end]``.

    >>> citation_valid("cat sat", 4, 11, "The cat sat."), citation_valid("cat sat", 0, 7, "The cat sat.")
    (True, False)
    """
    if article_text is None or not quote or not 0 <= start < end <= len(article_text):
        return False
    return article_text[start:end] == quote


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between ranks, as numpy's default; None if empty.

    >>> percentile([10, 20, 30, 40], 50), percentile([5], 95), percentile([], 50)
    (25.0, 5.0, None)
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(position), math.ceil(position)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo))


@dataclass
class Row:
    """One question's result, the same shape for newsdesk and the baseline."""

    id: str
    question: str
    reference: str
    answerable: bool
    answer: str
    refused: bool
    correct: bool
    mode: str = ""
    asked_on: str = ""
    turn: int = 0  # position within its conversation (1, 2, …); 0 for a question on its own
    keywords: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)  # article id per passage, best first (top DEPTH)
    retrieved_urls: list[str] = field(default_factory=list)
    rank: int | None = None  # first passage from a source, 1-based, among ``retrieved``
    citations: list[dict[str, Any]] = field(default_factory=list)  # n, article_id, quote, start, end, valid
    verdicts: list[str] = field(default_factory=list)  # the verifier's per-sentence verdicts
    retrieve_ms: float = 0.0
    generate_ms: float = 0.0
    total_ms: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def summarize(rows: Sequence[Row]) -> dict[str, Any]:
    """The summary object of a run (what ``newsdesk eval --json`` prints); a share is None when undefined."""
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    ranked = [r for r in rows if r.sources]
    citations = [c for r in rows for c in r.citations]
    generative = any("generative" in r.mode for r in rows)
    verdicts = [v for r in rows for v in r.verdicts]
    summary: dict[str, Any] = {
        "n_questions": len(rows),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "answer_accuracy": _share(sum(r.correct for r in answerable), len(answerable)),
        "refusal_accuracy": _share(sum(r.refused for r in unanswerable), len(unanswerable)),
        "false_refusals": _share(sum(r.refused for r in answerable), len(answerable)),
        "n_false_refusals": sum(r.refused for r in answerable),
        "n_with_sources": len(ranked),
    }
    # Conversations: the opening questions against the follow-ups that lean on them.
    first = [r for r in answerable if r.turn == 1]
    later = [r for r in answerable if r.turn > 1]
    summary["first_turn_accuracy"] = _share(sum(r.correct for r in first), len(first))
    summary["followup_accuracy"] = _share(sum(r.correct for r in later), len(later))
    summary["n_followups"] = len(later)
    for k in RANKS:
        summary[f"recall_at_{k}"] = _share(sum(int(recall_at(r.rank, k)) for r in ranked), len(ranked))
    mrr = sum(reciprocal_rank(r.rank) for r in ranked) / len(ranked) if ranked else None
    summary[f"mrr_at_{DEPTH}"] = None if mrr is None else round(mrr, 4)
    summary["citation_validity"] = _share(sum(bool(c.get("valid")) for c in citations), len(citations))
    summary["n_citations"] = len(citations)
    summary["grounded_sentences"] = _share(verdicts.count("supported"), len(verdicts)) if generative else None
    summary["unsupported_sentences"] = _share(verdicts.count("unsupported"), len(verdicts)) if generative else None
    summary["n_checked_sentences"] = len(verdicts) if generative else None
    timed = [r for r in rows if not r.error]
    for name, values in (
        ("", [r.total_ms for r in timed]),
        ("retrieval_", [r.retrieve_ms for r in timed]),
        ("generation_", [r.generate_ms for r in timed]),
    ):
        summary[f"{name}p50_ms"] = _ms(percentile(values, 50))
        summary[f"{name}p95_ms"] = _ms(percentile(values, 95))
    answered = [len(r.answer) for r in rows if not r.refused and not r.error]
    # Keyword and containment scoring favour long answers; the length shows how much of that is at play.
    summary["answer_chars_p50"] = _ms(percentile(answered, 50))
    summary["errors"] = sum(bool(r.error) for r in rows)
    summary["modes"] = sorted({r.mode for r in rows if r.mode})
    return summary


def make_row(
    question: Question,
    *,
    answer: str,
    refused: bool,
    mode: str,
    retrieved: Sequence[tuple[str, str]],
    citations: Sequence[dict[str, Any]] = (),
    verdicts: Sequence[str] = (),
    retrieve_ms: float = 0.0,
    generate_ms: float = 0.0,
    total_ms: float = 0.0,
    warnings: Sequence[str] = (),
    error: str = "",
) -> Row:
    """Score one answer: correctness, the rank of its first source among ``retrieved`` (article_id, url)."""
    top = list(retrieved)[:DEPTH]
    return Row(
        id=question.id, question=question.question, reference=question.answer, answerable=question.answerable,
        answer=answer, refused=refused, correct=False if error else row_correct(question, answer, refused),
        mode=mode, asked_on=question.asked_on, turn=question.turn, keywords=list(question.keywords),
        sources=list(question.sources),
        retrieved=[aid for aid, _ in top], retrieved_urls=[url for _, url in top],
        rank=first_relevant_rank(top, question.sources) if question.sources else None,
        citations=[dict(c) for c in citations], verdicts=list(verdicts),
        retrieve_ms=round(retrieve_ms, 2), generate_ms=round(generate_ms, 2), total_ms=round(total_ms, 2),
        warnings=list(warnings), error=error,
    )
