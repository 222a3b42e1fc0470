"""newsdesk's hybrid retrieval as a LangChain ``BaseRetriever``, to compose into other LangChain code.

    retriever = build_service(settings).as_retriever(k=3)
    chain = {"context": retriever | join_passages, "question": RunnablePassthrough()} | prompt | model

Documents carry the passage text; their metadata holds the article id, title, url, source, date, the
character offsets into the article and the retrieval scores (``fused``, ``dense``, ``bm25``, ``title``).
Headline-only links (no stored text) are left out: a chain can do nothing with an empty document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.filters import Filters
from rag.records import Passage

# ``Pipeline.retrieve`` or ``Newsdesk.retrieve``: called as (question, k=, filters=, asked_on=).
Search = Callable[..., list[Passage]]


class NewsdeskRetriever(BaseRetriever):
    """The ``k`` best passages for a query as ``Document``s; ``invoke(query, k=N)`` overrides ``k`` per call."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    search: Search
    k: int = 5
    filters: Filters = Filters()
    asked_on: str | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None, **_: Any
    ) -> list[Document]:
        n = k or self.k
        passages = self.search(query, k=n, filters=self.filters, asked_on=self.asked_on)
        return [to_document(p) for p in passages if p.chunk.text][:n]


def to_document(passage: Passage) -> Document:
    """A passage as a LangChain ``Document`` (metadata carries ids, offsets and scores).

    >>> from rag.records import Chunk
    >>> doc = to_document(Passage(Chunk("c1", "a1", 0, "Rain fell.", 0, 10, title="Rain"), {"fused": 0.03}))
    >>> doc.page_content, doc.id, doc.metadata["article_id"], doc.metadata["fused"]
    ('Rain fell.', 'c1', 'a1', 0.03)
    """
    chunk = passage.chunk
    return Document(
        page_content=chunk.text,
        id=chunk.id,
        metadata={
            "article_id": chunk.article_id,
            "title": chunk.title,
            "url": chunk.url,
            "source": chunk.source,
            "published_at": chunk.published_at,
            "start": chunk.start,
            "end": chunk.end,
            **passage.scores,
        },
    )
