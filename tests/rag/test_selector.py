"""The fitted sentence selector: the committed model matches the features, and its numbers mean what they say."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.errors import ModelError
from rag.records import Chunk, Passage
from rag.selector import FEATURES, MODEL_FILE, Selector, Span, default_selector, describe

pytestmark = pytest.mark.unit


def _passage(article_id: str, text: str, **scores: float) -> Passage:
    return Passage(Chunk(f"{article_id}-0", article_id, 0, text, 0, len(text), title=article_id.title()), scores)


def test_the_committed_model_is_fitted_on_these_features_and_carries_its_provenance() -> None:
    spec = json.loads(MODEL_FILE.read_text("utf-8"))
    assert spec["features"] == list(FEATURES)
    assert "RealTime QA 2023" in spec["fitted_on"]  # fitted on the training set, never the 2022 benchmark
    assert 0.0 < spec["level"] < 1.0 and 0.0 < spec["extra"] <= 1.01
    assert spec["curve"] and {"level", "false_refusals", "unanswerable_refused"} <= set(spec["curve"][0])
    assert (MODEL_FILE.parent / "selector.md").is_file()  # the model card beside it


def test_a_model_fitted_on_other_features_is_refused_with_the_fix() -> None:
    spec = {**json.loads(MODEL_FILE.read_text("utf-8")), "features": ["dense", "lexical"]}
    with pytest.raises(ModelError, match="make fit-selector"):
        Selector(spec)


def test_describe_gives_one_row_per_span_with_neighbours_from_the_same_passage() -> None:
    first = _passage("a", "Ford recalled 2.9 million cars. The recall covers trucks.", fused=0.03, dense=0.6, bm25=9.0)
    second = _passage("b", "Prices rose.", fused=0.02, dense=0.4, bm25=3.0)
    text = first.chunk.text
    spans = [Span(0, 0, 31, text[:31]), Span(0, 32, 57, text[32:]), Span(1, 0, 12, "Prices rose.")]
    rows = describe("Which automaker recalled cars?", [first, second], spans, np.array([0.8, 0.5, 0.1]))
    col = {name: rows[:, i] for i, name in enumerate(FEATURES)}
    assert rows.shape == (3, len(FEATURES))
    assert col["dense_prev"].tolist() == pytest.approx([0.0, 0.8, 0.0])  # the third span starts another passage
    assert col["dense_next"].tolist() == pytest.approx([0.5, 0.0, 0.0])
    assert col["dense_gap"].tolist() == pytest.approx([0.0, -0.3, -0.7])
    assert col["lead_article"].tolist() == [1.0, 1.0, 0.0]
    assert col["novel"][0] == 1.0 and col["new_names"][0] == 1  # "2.9" ("Ford" opens the sentence)
    assert col["refers_back"].tolist() == [0.0, 1.0, 0.0]
    assert col["passage_bm25_share"].tolist() == pytest.approx([1.0, 1.0, 3.0 / 9.0])
    assert describe("Q?", [first], [], np.zeros(0)).shape == (0, len(FEATURES))


def test_the_logistic_form_computes_a_standardised_sigmoid() -> None:
    n = len(FEATURES)
    coef = np.zeros(n)
    coef[0] = 2.0
    selector = Selector({"kind": "logistic", "features": list(FEATURES), "mean": [0.5] * n, "scale": [0.25] * n,
                         "coef": coef.tolist(), "intercept": -1.0, "level": 0.5, "extra": 0.8})
    rows = np.zeros((2, n))
    rows[:, 0] = [0.5, 0.75]
    assert selector.probabilities(rows).tolist() == pytest.approx([1 / (1 + np.e), 1 / (1 + np.exp(-1.0))])


def test_more_question_words_in_a_sentence_never_lower_its_probability_much() -> None:
    # A sanity check on the fitted trees: the sentence that holds the answer's words and a name outranks one
    # that shares nothing with the question.
    passage = _passage("a", "Ford recalled 2.9 million cars this week. Prices rose.", fused=0.03, dense=0.6, bm25=9.0)
    spans = [Span(0, 0, 41, passage.chunk.text[:41]), Span(0, 42, 54, "Prices rose.")]
    rows = describe("Which automaker recalled cars this week?", [passage], spans, np.array([0.7, 0.1]))
    good, bad = default_selector().probabilities(rows)
    assert good > bad


def test_names_are_supported_by_other_articles_only() -> None:
    # Over one article every name it holds is "in the passages": that is no corroboration.
    text = "Amazon invested in Anthropic. So did Google."
    one = [_passage("a", text, fused=0.03), Passage(Chunk("a-1", "a", 1, "Amazon again.", 50, 63, title="A"), {})]
    other = _passage("b", "Google led the round.", fused=0.02)
    spans = [Span(0, 30, 44, "So did Google.")]
    alone = describe("Who invested?", one, spans, np.array([0.5]))
    with_other = describe("Who invested?", [*one, other], spans, np.array([0.5]))
    support = FEATURES.index("name_support")
    assert alone[0, support] == 0.0
    assert with_other[0, support] == 1.0  # the one other article names Google


def test_the_bm25_share_is_over_the_best_bm25_even_when_the_first_passage_has_none() -> None:
    first = _passage("a", "Dense only hit.", fused=0.03, dense=0.7)  # no BM25 score: found by meaning alone
    second = _passage("b", "Prices rose.", fused=0.02, bm25=4.0)
    rows = describe("Q?", [first, second], [Span(1, 0, 12, "Prices rose.")], np.array([0.2]))
    assert rows[0, FEATURES.index("passage_bm25_share")] == pytest.approx(1.0)


def test_what_with_a_verb_asks_for_an_explanation_and_what_with_a_noun_for_a_name() -> None:
    from rag.selector import opening

    assert opening("What NHL team won the Stanley Cup?") == "which"
    assert opening("What do critics doubt about companies like Anthropic?") == "what"


def test_a_sentence_naming_a_country_the_question_lacks_is_marked_for_which_country_questions() -> None:
    text = "The drills with the Philippines began. China issued a map of six zones around Taiwan."
    passage = _passage("a", text, fused=0.03)
    spans = [Span(0, 0, 38, text[:38]), Span(0, 39, len(text), text[39:])]
    col = FEATURES.index("place_named")
    asked = describe("The US and which other country launched drills with China?", [passage], spans, np.ones(2))
    assert asked[:, col].tolist() == [1.0, 1.0]  # the Philippines; Taiwan (China is in the question)
    other = describe("Which company launched drills?", [passage], spans, np.ones(2))
    assert other[:, col].tolist() == [0.0, 0.0]  # not asked for a place
