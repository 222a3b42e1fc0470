"""GenerativeAnswerer against the scripted OpenAI-compatible server: the happy paths and what goes on the wire."""

from __future__ import annotations

import re

import pytest

from rag.generative import MAX_ANSWER_TOKENS, GenerativeAnswerer, repair_markers
from rag.prompts import ANSWER_SYSTEM, CONDENSE_SYSTEM
from rag.records import REFUSAL, Passage
from tests.generative.conftest import KEY, StubSettings, passage
from tests.servers.openai_stub import MODEL, OpenAIStub, Scenario, split_pieces

pytestmark = pytest.mark.integration

ANSWER = "The council approved a budget of 4.2 million dollars [1]. Road repairs start in July [2]."


def test_pieces_stream_in_order_and_join_to_the_scripted_text(
    answerer: GenerativeAnswerer, openai_stub: OpenAIStub, council_passages: list[Passage]
) -> None:
    openai_stub.script(Scenario(text=ANSWER, pieces=6))
    pieces = list(answerer.stream("What did the council approve?", council_passages))
    assert pieces == split_pieces(ANSWER, 6) and len(pieces) == 6
    assert "".join(pieces) == ANSWER


def test_the_first_piece_arrives_before_the_stream_ends(
    answerer: GenerativeAnswerer, openai_stub: OpenAIStub, council_passages: list[Passage]
) -> None:
    # The server waits 0.3 s between pieces; a non-streaming client would see nothing until all arrived.
    openai_stub.script(Scenario(text=ANSWER, pieces=4, delay=0.3))
    stream = answerer.stream("What did the council approve?", council_passages)
    first = next(stream)
    assert len(openai_stub.chat_requests) == 1 and first == split_pieces(ANSWER, 4)[0]
    assert first + "".join(stream) == ANSWER


def test_request_carries_model_settings_and_the_delimited_prompt(
    answerer: GenerativeAnswerer, openai_stub: OpenAIStub, council_passages: list[Passage]
) -> None:
    openai_stub.script(Scenario(text=ANSWER))
    list(answerer.stream("What did the council approve?", council_passages))
    (request,) = openai_stub.chat_requests
    body = request.body
    assert body["model"] == MODEL and body["temperature"] == 0 and body["stream"] is True
    assert body["max_tokens"] == MAX_ANSWER_TOKENS  # local servers only honour max_tokens
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert [m["role"] for m in request.messages] == ["system", "user"]
    assert request.content("system") == ANSWER_SYSTEM
    user = request.content("user")
    assert re.findall(r'<passage n="(\d)"', user) == ["1", "2", "3"]
    assert "4.2 million dollars" in user and "Question: What did the council approve?" in user


def test_only_passages_within_the_token_budget_are_sent(
    stub_settings: StubSettings, openai_stub: OpenAIStub
) -> None:
    ps = [passage(i, f"Passage {i} describes the harbour closure in some detail. " * 8) for i in range(1, 9)]
    with GenerativeAnswerer(stub_settings(context_tokens=400)) as answerer:
        context = answerer.context(ps)
        list(answerer.stream("What closed?", ps))
    sent = re.findall(r'<passage n="(\d+)"', openai_stub.chat_requests[0].content("user"))
    assert 1 <= len(sent) < len(ps) and sent == [str(n) for n in range(1, len(context.passages) + 1)]
    assert context.dropped == len(ps) - len(sent)


def test_bad_markers_from_the_model_are_repaired(
    answerer: GenerativeAnswerer, openai_stub: OpenAIStub, council_passages: list[Passage]
) -> None:
    openai_stub.script(Scenario(text="Budget approved [1, 2]. Harbour closed [7]. Mayor spoke [abc] [2][2]."))
    raw = "".join(answerer.stream("What happened?", council_passages))
    repaired = repair_markers(raw, len(council_passages))
    assert repaired == "Budget approved [1][2]. Harbour closed. Mayor spoke [2]."


def test_refusal_sentence_passes_through_unchanged(
    answerer: GenerativeAnswerer, openai_stub: OpenAIStub, council_passages: list[Passage]
) -> None:
    openai_stub.script(Scenario(text=REFUSAL, pieces=3))
    assert "".join(answerer.stream("What is the capital of Australia?", council_passages)) == REFUSAL


def test_no_passages_refuses_without_calling_the_model(
    answerer: GenerativeAnswerer, openai_stub: OpenAIStub
) -> None:
    assert list(answerer.stream("Anything?", [])) == [REFUSAL]
    assert openai_stub.chat_requests == []


def test_condense_uses_a_plain_request_and_returns_one_clean_question(
    answerer: GenerativeAnswerer, openai_stub: OpenAIStub
) -> None:
    openai_stub.script(Scenario(text='Standalone question: "When do the road repairs in Springfield start?"\n'))
    history = [("What did Springfield's mayor say?", "Road repairs would start soon [2].")]
    question = answerer.condense("When do they start?", history)
    assert question == "When do the road repairs in Springfield start?"
    (request,) = openai_stub.chat_requests
    assert request.body.get("stream") in (False, None)
    assert request.content("system") == CONDENSE_SYSTEM
    user = request.content("user")
    assert "<history>" in user and "Follow-up question: When do they start?" in user


def test_condense_without_history_asks_nothing(answerer: GenerativeAnswerer, openai_stub: OpenAIStub) -> None:
    assert answerer.condense("Who won?", []) == "Who won?"
    assert openai_stub.chat_requests == []


def test_a_placeholder_key_is_sent_when_only_a_base_url_is_set(
    stub_settings: StubSettings, openai_stub: OpenAIStub, council_passages: list[Passage]
) -> None:
    with GenerativeAnswerer(stub_settings(openai_api_key=None)) as answerer:
        assert "".join(answerer.stream("Q?", council_passages)) == Scenario().text
    assert openai_stub.chat_requests[0].headers["authorization"] == "Bearer not-needed"


def test_a_retry_after_a_500_still_delivers_the_answer(
    answerer: GenerativeAnswerer, openai_stub: OpenAIStub, council_passages: list[Passage]
) -> None:
    openai_stub.script(Scenario(kind="status", status=500), Scenario(text=ANSWER))
    assert "".join(answerer.stream("What did the council approve?", council_passages)) == ANSWER
    assert len(openai_stub.chat_requests) == 2


def test_stopping_early_closes_the_request(
    answerer: GenerativeAnswerer, openai_stub: OpenAIStub, council_passages: list[Passage]
) -> None:
    openai_stub.script(Scenario(text=ANSWER, pieces=6, delay=0.2), Scenario(text="Second answer [1]."))
    stream = answerer.stream("Q?", council_passages)
    next(stream)
    stream.close()  # a caller that stops listening must not leave the request running
    assert openai_stub.aborted.acquire(timeout=5), "the server never saw the client hang up"
    assert "".join(answerer.stream("Q?", council_passages)) == "Second answer [1]."


def test_concurrent_streams_do_not_mix(
    answerer: GenerativeAnswerer, openai_stub: OpenAIStub, council_passages: list[Passage]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    openai_stub.script(Scenario(text=ANSWER, pieces=5, delay=0.05))
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: "".join(answerer.stream("Q?", council_passages)), range(6)))
    assert results == [ANSWER] * 6
