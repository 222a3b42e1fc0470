"""The offline follow-up rewrite: a question that leans on the conversation borrows what it is about."""

from __future__ import annotations

import pytest

from rag.questions import answer_names, leans_on_context, standalone_question

pytestmark = pytest.mark.unit

SQUID = ("Which show did Netflix renew this week?",
         "The wildly popular South Korean show is green lit for a second season, Netflix said of Squid Game. [1]")


@pytest.mark.parametrize(
    ("question", "leans"),
    [("Who directs it?", True), ("How much will it cost per month?", True), ("And the director?", True),
     ("Where is it based?", True), ("Who directs Squid Game?", False), ("What did the Fed decide in March?", False),
     ("Which countries are the export restrictions meant to keep American AI away from?", False)],
)
def test_which_questions_lean_on_the_conversation(question: str, leans: bool) -> None:
    assert leans_on_context(question) is leans


def test_a_follow_up_borrows_the_fact_the_previous_answer_named_not_only_the_previous_question() -> None:
    rewritten = standalone_question("Who directs it?", [SQUID])
    assert rewritten.startswith("Who directs it? (")
    assert "Squid Game" in rewritten and "Netflix" in rewritten and "renew" in rewritten


def test_a_third_turn_keeps_the_thread_through_a_second_that_leaned_on_the_first() -> None:
    history = [SQUID, ("Who directs it?", "Hwang Dong-hyuk wrote and directed the series. [1]")]
    rewritten = standalone_question("When does it premiere?", history)
    assert "Hwang Dong-hyuk" in rewritten and "squid game" in rewritten.lower()


def test_a_standalone_question_and_a_first_question_are_left_as_asked() -> None:
    assert standalone_question("Who founded Anthropic?", [SQUID]) == "Who founded Anthropic?"
    assert standalone_question("Who directs it?", []) == "Who directs it?"


def test_answer_names_skips_markers_pronouns_and_function_words() -> None:
    assert answer_names("It said The Hill and Axios reported it. [2] They did.") == ["The Hill", "Axios"]
