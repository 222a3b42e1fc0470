"""The scoring rules of eval/README.md, each on hand-made cases."""

from __future__ import annotations

from typing import Any

import pytest

from eval.metrics import (
    Row,
    answer_correct,
    citation_valid,
    first_relevant_rank,
    keywords_match,
    make_row,
    normalize_answer,
    normalize_source,
    percentile,
    recall_at,
    reciprocal_rank,
    row_correct,
    summarize,
)
from eval.questions import Question

pytestmark = pytest.mark.unit

ARTICLE = "Anthropic is based in San Francisco. It took substantial investment from Amazon."
AMAZON = Question(id="q1", question="Who invested in Anthropic?", answer="Amazon", keywords=("amazon",),
                  sources=("a.txt",))
SQUID = Question(id="q2", question="Which show was renewed?", answer="“Squid Game”")
CEO = Question(id="q3", question="Who is Anthropic's CEO?", answerable=False)


@pytest.mark.parametrize(
    ("question", "text", "refused", "expected"),
    [
        pytest.param(AMAZON, "It took substantial investment from Amazon. [1]", False, True, id="keyword-hit"),
        pytest.param(AMAZON, "It took substantial investment from AMAZON.", False, True, id="keyword-any-case"),
        pytest.param(AMAZON, "Anthropic is based in San Francisco. [1]", False, False, id="keyword-miss"),
        pytest.param(
            Question(id="k", question="?", answer="x", keywords=("Hill", "Axios")),
            "The Hill reported it.", False, False, id="one-of-two-keywords-missing",
        ),
        pytest.param(AMAZON, "I couldn't find that. Amazon", True, False, id="refusal-is-never-correct"),
        pytest.param(SQUID, "Netflix renewed squid game for a season.", False, True, id="reference-curly-quotes"),
        pytest.param(SQUID, "Netflix renewed Squid Games.", False, False, id="reference-whole-words-only"),
        pytest.param(Question(id="n", question="?", answer="5"), "It costs $50.", False, False, id="5-is-not-50"),
        pytest.param(Question(id="n", question="?", answer="$5"), "It now costs 5 dollars.", False, True,
                     id="reference-punctuation-dropped"),
        pytest.param(Question(id="a", question="?", answer="The White House"), "Biden's white house said no.",
                     False, True, id="reference-articles-dropped"),
    ],
)
def test_answer_correct(question: Question, text: str, refused: bool, expected: bool) -> None:
    assert answer_correct(question, text, refused) is expected


@pytest.mark.parametrize(
    ("question", "refused", "expected"),
    [
        pytest.param(CEO, True, True, id="correct-refusal"),
        pytest.param(CEO, False, False, id="answered-unanswerable"),
        pytest.param(AMAZON, True, False, id="false-refusal"),
    ],
)
def test_row_correct_for_refusals(question: Question, refused: bool, expected: bool) -> None:
    assert row_correct(question, "Anthropic is based in San Francisco.", refused) is expected


def test_normalize_answer_and_keywords() -> None:
    assert normalize_answer("  The “U.S.-China”   race, an AI story!  ") == "u s china race ai story"
    assert normalize_answer("") == ""
    assert keywords_match("the hill  and\nAxios", ["The Hill and Axios"])
    assert not keywords_match("Axios", ["Axios", "BBC"])
    assert keywords_match("anything", [])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("https://www.cnn.com/2022/06/12/x/index.html#:~:text=The%20company", "cnn.com/2022/06/12/x"),
        ("http://cnn.com/2022/06/12/tech/x/index.html", "cnn.com/2022/06/12/tech/x"),
        ("https://www.cnn.com/2022/06/12/tech/x?cid=external-feeds_iluminar_google", "cnn.com/2022/06/12/tech/x"),
        ("https://www.cnn.com/2022/06/12/tech/x/index.html?utm_source=ribbon", "cnn.com/2022/06/12/tech/x"),
        ("https://WWW.Example.com/a/b/", "example.com/a/b"),
        ("www.example.com/a?id=3#top", "example.com/a?id=3"),
        ("https://example.com:8443/a", "example.com:8443/a"),
        ("000_78dbcec5bdb2f3cc.txt", "000_78dbcec5bdb2f3cc.txt"),
        ("wire-001", "wire-001"),
    ],
)
def test_normalize_source(source: str, expected: str) -> None:
    assert normalize_source(source) == expected


CNN = "https://www.cnn.com/2022/06/12/tech/lightning-cable/index.html"


@pytest.mark.parametrize(
    ("retrieved", "sources", "rank"),
    [
        pytest.param([("a.txt", ""), ("b.txt", "")], ["a.txt"], 1, id="id-at-rank-1"),
        pytest.param([("x", ""), ("y", ""), ("a.txt", ""), ("a.txt", "")], ["a.txt"], 3, id="id-at-rank-3"),
        pytest.param([("x", ""), ("wire-7", "http://cnn.com/2022/06/12/tech/lightning-cable/index.html/")],
                     [CNN + "#:~:text=The%20company%20already"], 2, id="url-with-fragment-and-scheme"),
        pytest.param([("http://www.cnn.com/2022/06/12/tech/lightning-cable/index.html", "")], [CNN], 1,
                     id="id-is-url"),
        pytest.param([("x", ""), ("y", "")], ["a.txt"], None, id="not-retrieved"),
        pytest.param([], ["a.txt"], None, id="nothing-retrieved"),
        pytest.param([("b", ""), ("a", "")], ["zzz", "a"], 2, id="any-of-several-sources"),
        pytest.param([("x", ""), ("y", CNN.removesuffix("/index.html"))], [CNN], 2, id="same-page-other-address"),
    ],
)
def test_first_relevant_rank(retrieved: list[tuple[str, str]], sources: list[str], rank: int | None) -> None:
    assert first_relevant_rank(retrieved, sources) == rank


@pytest.mark.parametrize(
    ("rank", "r1", "r5", "r10", "rr"),
    [(1, 1.0, 1.0, 1.0, 1.0), (3, 0.0, 1.0, 1.0, 1 / 3), (10, 0.0, 0.0, 1.0, 0.1), (11, 0.0, 0.0, 0.0, 0.0),
     (None, 0.0, 0.0, 0.0, 0.0)],
)
def test_recall_and_reciprocal_rank(rank: int | None, r1: float, r5: float, r10: float, rr: float) -> None:
    assert (recall_at(rank, 1), recall_at(rank, 5), recall_at(rank, 10)) == (r1, r5, r10)
    assert reciprocal_rank(rank) == pytest.approx(rr)


@pytest.mark.parametrize(
    ("quote", "start", "end", "text", "valid"),
    [
        pytest.param("Anthropic is based in San Francisco.", 0, 36, ARTICLE, True, id="exact"),
        pytest.param("Anthropic is based in San Francisco.", 1, 37, ARTICLE, False, id="offsets-shifted"),
        pytest.param("Anthropic is based in Seattle.", 0, 30, ARTICLE, False, id="quote-not-in-article"),
        pytest.param("It took substantial investment from Amazon.", 37, 80, ARTICLE, True, id="second-sentence"),
        pytest.param("", 0, 0, ARTICLE, False, id="empty-quote"),
        pytest.param("Anthropic", 0, 9, None, False, id="article-missing"),
        pytest.param("Amazon.", 74, 200, ARTICLE, False, id="end-past-text"),
    ],
)
def test_citation_valid(quote: str, start: int, end: int, text: str | None, valid: bool) -> None:
    assert citation_valid(quote, start, end, text) is valid


def test_percentile_interpolates() -> None:
    assert percentile([100.0, 10.0, 20.0, 30.0], 50) == 25.0
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([], 95) is None


def _row(question: Question, answer: str, refused: bool, **kw: Any) -> Row:
    return make_row(question, answer=answer, refused=refused, mode=kw.pop("mode", "extractive"),
                    retrieved=kw.pop("retrieved", []), **kw)


def test_summary_on_a_hand_made_run() -> None:
    cite_ok = {"n": 1, "article_id": "a.txt", "quote": "x", "start": 0, "end": 1, "valid": True}
    cite_bad = {**cite_ok, "n": 2, "valid": False}
    rows = [
        _row(AMAZON, "Investment from Amazon. [1]", False, retrieved=[("a.txt", "")], citations=[cite_ok],
             retrieve_ms=10, generate_ms=5, total_ms=15),                                 # correct, rank 1
        _row(AMAZON, "Based in San Francisco. [1] [2]", False, retrieved=[("b", ""), ("c", ""), ("a.txt", "")],
             citations=[cite_ok, cite_bad], retrieve_ms=20, generate_ms=5, total_ms=25),  # keyword miss, rank 3
        _row(AMAZON, "I couldn't find that in the articles.", True, retrieved=[("b", "")],
             retrieve_ms=30, generate_ms=5, total_ms=35),                                 # false refusal, miss
        _row(CEO, "I couldn't find that in the articles.", True, retrieve_ms=40, total_ms=45),  # correct refusal
        _row(CEO, "Anthropic is based in San Francisco.", False, retrieve_ms=50, total_ms=55),  # answered it
    ]
    assert [r.correct for r in rows] == [True, False, False, True, False]
    assert [r.rank for r in rows] == [1, 3, None, None, None]
    s = summarize(rows)
    assert (s["n_questions"], s["n_answerable"], s["n_unanswerable"], s["n_with_sources"]) == (5, 3, 2, 3)
    assert s["answer_accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["refusal_accuracy"] == 0.5
    assert s["false_refusals"] == pytest.approx(1 / 3, abs=1e-4) and s["n_false_refusals"] == 1
    assert (s["recall_at_1"], s["recall_at_5"], s["recall_at_10"]) == pytest.approx((1 / 3, 2 / 3, 2 / 3), abs=1e-4)
    assert s["mrr_at_10"] == pytest.approx((1 + 1 / 3) / 3, abs=1e-4)
    assert s["citation_validity"] == pytest.approx(2 / 3, abs=1e-4) and s["n_citations"] == 3
    assert s["p50_ms"] == 35.0 and s["p95_ms"] == pytest.approx(53.0)
    assert s["retrieval_p50_ms"] == 30.0 and s["generation_p50_ms"] == 5.0
    assert s["grounded_sentences"] is None and s["unsupported_sentences"] is None  # extractive run


def test_summary_edge_cases() -> None:
    no_sources = Question(id="x", question="?", answer="Amazon")
    s = summarize([_row(no_sources, "Amazon", False, retrieved=[("a.txt", "")])])
    assert s["recall_at_1"] is None and s["mrr_at_10"] is None and s["n_with_sources"] == 0
    assert s["refusal_accuracy"] is None and s["citation_validity"] is None
    empty = summarize([])
    assert empty["n_questions"] == 0 and empty["answer_accuracy"] is None and empty["p50_ms"] is None


def test_grounding_from_verdicts_in_generative_runs() -> None:
    rows = [
        _row(AMAZON, "Amazon invested. [1] It paid $4bn. [1]", False, mode="generative",
             verdicts=["supported", "unsupported"]),
        _row(AMAZON, "Amazon backed it. [1] Analysts were wary. [1]", False, mode="generative",
             verdicts=["supported", "weak"]),
    ]
    s = summarize(rows)
    assert s["grounded_sentences"] == 0.5 and s["unsupported_sentences"] == 0.25 and s["n_checked_sentences"] == 4


def test_error_rows_are_wrong_and_untimed() -> None:
    failed = make_row(AMAZON, answer="", refused=False, mode="error", retrieved=[], total_ms=9000, error="timeout")
    fine = _row(AMAZON, "Amazon", False, total_ms=10)
    s = summarize([failed, fine])
    assert failed.correct is False and s["errors"] == 1 and s["answer_accuracy"] == 0.5 and s["p95_ms"] == 10.0


def test_make_row_keeps_top_ten_only() -> None:
    retrieved = [(f"x{i}", "") for i in range(12)] + [("a.txt", "")]
    row = _row(AMAZON, "Amazon", False, retrieved=retrieved)
    assert len(row.retrieved) == 10 and row.rank is None


@pytest.mark.parametrize("name", ["eval.questions", "eval.metrics", "eval.baseline", "eval.report"])
def test_docstring_examples(name: str) -> None:
    # eval/ is not in pytest's doctest paths (only rag/ and ingest/ are), so its examples run here.
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
