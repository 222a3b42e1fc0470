"""The chat model is injected: any LangChain ``BaseChatModel`` answers through the same LCEL chain and the
same grounding step; and that chain composes into other LangChain code."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from rag.embedder import MiniLMEmbedder
from rag.generative import GenerativeAnswerer
from rag.grounding import ground
from rag.pipeline import build_pipeline
from rag.prompts import answer_inputs
from rag.records import REFUSAL, Passage
from rag.settings import Settings
from tests.conftest import IngestPaths
from tests.generative.conftest import passage
from tests.servers.openai_stub import MODEL, OpenAIStub, Scenario

PORT_SENTENCE = "The Port of Rotterdam handled 15.3 million containers last year, a record for Europe's largest port."


@pytest.mark.integration
def test_an_injected_chatopenai_answers_without_a_configured_key(
    tmp_path: Path, embedder: MiniLMEmbedder, openai_stub: OpenAIStub, tiny_corpus: Path, ingest_paths: IngestPaths
) -> None:
    settings = Settings(data_dir=tmp_path / "data", answer_mode="generative")  # no key, no endpoint
    model = ChatOpenAI(model=MODEL, base_url=openai_stub.url, api_key=SecretStr("sk-other"), max_retries=0)
    pipeline = build_pipeline(settings, embedder=embedder, chat_model=model)
    ingest_paths(tiny_corpus, using=pipeline)
    openai_stub.script(Scenario(text=f"{PORT_SENTENCE} [1]", pieces=3))
    answer = pipeline.answer("How many containers did the Port of Rotterdam handle?")
    assert answer.mode == "generative" and not answer.refused and not answer.warnings
    assert answer.citations and answer.citations[0].article_id == "ports.txt"
    assert all(c.verdict == "supported" for c in answer.checks)
    assert openai_stub.chat_requests[0].headers["authorization"] == "Bearer sk-other"  # the model's own key


@pytest.mark.integration
def test_any_base_chat_model_goes_through_the_same_grounding(
    tmp_path: Path, embedder: MiniLMEmbedder, tiny_corpus: Path, ingest_paths: IngestPaths
) -> None:
    # Not OpenAI at all: LangChain's own in-process chat model, which reports no finish_reason.
    model = GenericFakeChatModel(messages=iter([AIMessage(content=f"{PORT_SENTENCE} [1] Cats can fly [9].")]))
    settings = Settings(data_dir=tmp_path / "data", answer_mode="generative", verify="drop")
    pipeline = build_pipeline(settings, embedder=embedder, chat_model=model)
    ingest_paths(tiny_corpus, using=pipeline)
    answer = pipeline.answer("How many containers did the Port of Rotterdam handle?")
    assert answer.mode == "generative"
    assert "Cats can fly" not in answer.text and "[9]" not in answer.text  # dropped by verification
    assert answer.text.startswith(PORT_SENTENCE)


@pytest.mark.unit
def test_the_answer_chain_composes_with_other_runnables(stub_settings: object, openai_stub: OpenAIStub) -> None:
    passages = [passage(1, "The council approved a budget of 4.2 million dollars on Monday.")]
    openai_stub.script(Scenario(text="A 4.2 million dollar budget [1].", pieces=2))
    with GenerativeAnswerer(stub_settings()) as answerer:  # type: ignore[operator]
        chain = RunnableLambda(lambda question: answer_inputs(question, passages)) | answerer.chain
        assert chain.invoke("What did the council approve?") == "A 4.2 million dollar budget [1]."
    assert "4.2 million dollars" in openai_stub.chat_requests[0].content("user")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("raw", "policy", "text", "refused"),
    [
        ("The council approved a budget of 4.2 million dollars [1].", "flag",
         "The council approved a budget of 4.2 million dollars [1].", False),
        ("The council approved a budget of 4.2 million dollars [7].", "off",
         "The council approved a budget of 4.2 million dollars.", False),  # a marker past the passages goes
        ("I couldn't find that in the articles.", "flag", REFUSAL, True),
        ("", "flag", REFUSAL, True),
    ],
)
def test_grounding_repairs_verifies_and_cites(
    embedder: MiniLMEmbedder, raw: str, policy: str, text: str, refused: bool
) -> None:
    fitted: list[Passage] = [passage(1, "The council approved a budget of 4.2 million dollars on Monday.")]
    grounded = ground(raw, fitted, embedder, policy)  # type: ignore[arg-type]
    assert (grounded.text, grounded.refused) == (text, refused)
    assert bool(grounded.checks) == (policy != "off" and not refused)
    assert (grounded.verify_ms is not None) == (policy != "off" and not refused)
    if not refused and policy != "off":
        assert grounded.citations and grounded.citations[0].article_id == "a1"
