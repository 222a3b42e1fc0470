"""End to end against a real OpenAI-compatible server: llama-cpp-python serving SmolLM2-135M on 127.0.0.1.

These assert the protocol and what newsdesk guarantees whatever the model writes, not the model's wisdom:
pieces arrive as a stream, every marker left after repair names a passage the model was given, no prompt
delimiter reaches the answer, follow-ups come back as one line, and a model that is too slow ends in an
``LLMError`` within the deadline.

SmolLM2-135M does not honour the refusal instruction: given passages about a harbour and a football club it
answers "What is the capital of Australia?" with "The capital of Australia is Canberra." from its own
weights. So the refusal test asserts what holds regardless: with passages that cannot answer, whatever the
model says cites no passage it was not given, and it carries no copied delimiters; and when it does write the
refusal sentence, that sentence is what comes back. Catching the invented sentence is the verifier's job
(``NEWSDESK_VERIFY``), tested with the scripted server.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from rag.errors import LLMError
from rag.generative import GenerativeAnswerer, repair_markers
from rag.records import REFUSAL
from rag.settings import Settings
from tests.generative.conftest import LocalLLM, passage

pytestmark = [pytest.mark.slow, pytest.mark.local_llm, pytest.mark.integration]

TIMEOUT = 120.0  # 2 shared cores; SmolLM2 writes ~20 tokens/s here, and answers are capped at 512 tokens


@pytest.fixture
def local_answerer(local_llm: LocalLLM, settings: Settings) -> Iterator[GenerativeAnswerer]:
    configured = settings.model_copy(
        update={"openai_base_url": local_llm.url, "openai_model": local_llm.model, "llm_timeout": TIMEOUT}
    )
    with GenerativeAnswerer(configured) as answerer:
        yield answerer


RELEVANT = [
    passage(1, "The city council of Springfield approved a budget of 4.2 million dollars on Monday. The money "
               "will pay for road repairs and a new library.", "Council approves budget"),
    passage(2, "Mayor Ana Lopez said road repairs would start in July and finish before winter.", "Road works"),
    passage(3, "Storms closed the harbour for two days last week, delaying fishing boats.", "Harbour closed"),
]
IRRELEVANT = [
    passage(1, "Storms closed the harbour for two days last week, delaying fishing boats.", "Harbour closed"),
    passage(2, "The football club signed a new goalkeeper from Lisbon on Friday.", "Club signs goalkeeper"),
]


def _check_guarantees(raw: str, n_passages: int) -> str:
    repaired = repair_markers(raw, n_passages)
    cited = [int(n) for n in re.findall(r"\[(\d+)\]", repaired)]
    assert all(1 <= n <= n_passages for n in cited), repaired
    assert not re.search(r"\[[^\]\d]*\]", repaired), repaired  # no "[abc]"-style leftovers
    assert "<passage" not in repaired and "</passage>" not in repaired
    return repaired


def test_a_real_server_streams_an_answer_whose_markers_resolve(local_answerer: GenerativeAnswerer) -> None:
    pieces = list(local_answerer.stream("How much money did the Springfield council approve?", RELEVANT))
    assert len(pieces) > 3, "a streamed answer arrives in many pieces"
    raw = "".join(pieces)
    assert raw.strip()
    _check_guarantees(raw, len(RELEVANT))


def test_irrelevant_passages_never_yield_a_citation_to_nothing(local_answerer: GenerativeAnswerer) -> None:
    for question in ("What is the capital of Australia?", "Who won the 2018 football World Cup?"):
        raw = "".join(local_answerer.stream(question, IRRELEVANT))
        repaired = _check_guarantees(raw, len(IRRELEVANT))
        if raw.strip().startswith(REFUSAL[:-1]):
            assert repaired.strip().startswith(REFUSAL)


def test_a_real_server_condenses_a_follow_up_into_one_line(local_answerer: GenerativeAnswerer) -> None:
    history = [("What did the mayor of Springfield say about road repairs?", "They start in July [2].")]
    standalone = local_answerer.condense("When will they finish?", history)
    assert standalone.strip() and "\n" not in standalone
    assert "[" not in standalone  # citation markers never leak into a search query


def test_a_real_server_that_is_too_slow_ends_in_llm_error_within_the_deadline(
    local_llm: LocalLLM, settings: Settings
) -> None:
    configured = settings.model_copy(
        update={"openai_base_url": local_llm.url, "openai_model": local_llm.model, "llm_timeout": 0.5,
                "llm_max_retries": 1}
    )
    long_passages = [passage(i, "The harbour reopened after the storm. " * 30, f"Harbour {i}") for i in range(1, 6)]
    with GenerativeAnswerer(configured) as answerer:
        started = time.monotonic()
        with pytest.raises(LLMError) as raised:
            list(answerer.stream("Describe everything that happened at the harbour in detail.", long_passages))
        elapsed = time.monotonic() - started
    assert elapsed < 0.5 * 2 + 3
    assert "NEWSDESK_LLM_TIMEOUT" in str(raised.value)
