"""newsdesk's retriever and embedder as LangChain parts: LangChain's own conformance suites, unmodified, and
the retriever inside a real LCEL chain that calls a chat model over HTTP (the scripted OpenAI server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_openai import ChatOpenAI
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from pydantic import SecretStr

from ingest.service import build_service
from rag.embedder import MiniLMEmbedder
from rag.lc_retriever import NewsdeskRetriever
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.conftest import IngestPaths
from tests.servers.openai_stub import MODEL, Scenario, running_stub

pytestmark = pytest.mark.integration


class TestNewsdeskRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's retriever suite over the tiny corpus (six articles, real store and embedder)."""

    _pipeline: Pipeline

    @pytest.fixture(autouse=True)
    def _indexed(self, pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path) -> None:
        assert ingest_paths(tiny_corpus).exit_code == 0
        type(self)._pipeline = pipeline

    @property
    def retriever_constructor(self) -> type[NewsdeskRetriever]:
        return NewsdeskRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, object]:
        return {"search": self._pipeline.retrieve}

    @property
    def retriever_query_example(self) -> str:
        return "How many containers did the Port of Rotterdam handle?"


class TestMiniLMEmbedderStandard(EmbeddingsIntegrationTests):
    """LangChain's embeddings suite over the real int8 MiniLM."""

    @property
    def embeddings_class(self) -> type[MiniLMEmbedder]:
        return MiniLMEmbedder


def test_the_retriever_in_a_chain_feeds_a_chat_model(settings: Settings, embedder: MiniLMEmbedder,
                                                      tiny_corpus: Path) -> None:
    service = build_service(settings, embedder=embedder)
    service.ingest([tiny_corpus])

    def join(docs: list[Document]) -> str:
        return "\n\n".join(f"[{d.metadata['article_id']}] {d.page_content}" for d in docs)

    prompt = ChatPromptTemplate.from_messages([("system", "Answer from these passages:\n{context}"),
                                               ("human", "{question}")])
    with running_stub() as stub:
        stub.script(Scenario(text="15.3 million containers [ports.txt].", pieces=3))
        model = ChatOpenAI(model=MODEL, base_url=stub.url, api_key=SecretStr("sk-test"), max_retries=0)
        chain = (
            {"context": service.as_retriever(k=2) | RunnableLambda(join), "question": RunnablePassthrough()}
            | prompt
            | model
            | StrOutputParser()
        )
        answer = chain.invoke("How many containers did the Port of Rotterdam handle?")
        sent = stub.chat_requests[0].content("system")
    assert answer == "15.3 million containers [ports.txt]."
    assert "[ports.txt] " in sent and "15.3 million containers" in sent  # the retrieved passage reached the model
    assert sent.count("\n\n[") == 1  # k=2: two passages


def test_documents_carry_offsets_and_scores(pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path) -> None:
    ingest_paths(tiny_corpus)
    [doc] = NewsdeskRetriever(search=pipeline.retrieve, k=1).invoke("bike lanes on Main Street")
    article = pipeline.store.get_article(doc.metadata["article_id"])
    assert article is not None and article.id == "council.md"
    assert article.text[doc.metadata["start"] : doc.metadata["end"]] == doc.page_content
    assert {"fused", "dense", "bm25"} <= set(doc.metadata)
