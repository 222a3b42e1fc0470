"""The small, frozen vocabulary every layer speaks. LangChain ``Document`` objects never leave ``rag/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Article:
    """One news article as ingested: the text citations quote from, plus what we know about it."""

    id: str
    text: str
    title: str = ""
    url: str = ""
    source: str = ""
    published_at: str = ""  # ISO date (YYYY-MM-DD) or empty when unknown
    authors: tuple[str, ...] = ()
    path: str = ""  # where it was read from; drives --prune


@dataclass(frozen=True)
class Chunk:
    """A window of an article: ``text == article.text[start:end]``."""

    id: str
    article_id: str
    position: int
    text: str
    start: int
    end: int
    title: str = ""
    url: str = ""
    source: str = ""
    published_at: str = ""


def indexed_text(title: str, text: str) -> str:
    """What is embedded and BM25-indexed for a chunk: its article's title, then the chunk.

    >>> indexed_text("Title", "Body").splitlines()
    ['Title', 'Body']
    """
    return f"{title}\n{text}" if title else text


@dataclass(frozen=True)
class Reported:
    """Another article that tells the same story (a syndicated copy, another outlet's rewrite of it)."""

    article_id: str
    title: str = ""
    source: str = ""
    url: str = ""
    published_at: str = ""


@dataclass(frozen=True)
class Story:
    """Articles grouped at ingest as one story (``ingest.stories``), every member including the one asked for."""

    id: str
    members: tuple[Reported, ...]


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the scores that chose it (dense cosine, BM25, fused RRF)."""

    chunk: Chunk
    scores: dict[str, float] = field(default_factory=dict)
    also: tuple[Reported, ...] = ()  # the story's other pages, folded into this one (rag/retrieval/stories.py)


@dataclass(frozen=True)
class Citation:
    """What ``[n]`` in an answer points at: a verbatim span of the article, by character offsets."""

    n: int
    article_id: str
    title: str
    url: str
    published_at: str
    quote: str
    start: int
    end: int
    source: str = ""
    also: tuple[Reported, ...] = ()  # other pages telling the same story ("also reported by"), from its passage


Verdict = Literal["supported", "weak", "unsupported"]


@dataclass(frozen=True)
class SentenceCheck:
    """The verifier's verdict on one answer sentence and the source span it rests on, if any."""

    sentence: str
    verdict: Verdict
    score: float
    citation: int | None = None  # the [n] whose passage holds the span
    article_id: str = ""
    span: str = ""
    start: int = -1
    end: int = -1


@dataclass(frozen=True)
class Answer:
    """The one thing the answering API returns to the CLI, the page and eval."""

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    refused: bool = False
    mode: str = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    checks: tuple[SentenceCheck, ...] = ()
    standalone_question: str = ""
    searched: tuple[str, str] | None = None  # the published-date range searched (ISO, "" = open), None = all dates


REFUSAL = "I couldn't find that in the articles."
HEADLINE_ONLY = "Headline only: no text was stored for this page; open its link to read it."


def outlet(member: Reported) -> str:
    """Who reported it: its source, else its web address's host, else its title or id.

    >>> outlet(Reported("a", source="CNN")), outlet(Reported("b", url="https://www.usatoday.com/story/x"))
    ('CNN', 'usatoday.com')
    """
    host = member.url.split("://", 1)[-1].split("/", 1)[0].removeprefix("www.") if "://" in member.url else ""
    return member.source or host or member.title or member.article_id


def also_reported(members: tuple[Reported, ...]) -> str:
    """The line a source shows for a story's other pages ("" when it has none): outlets once each, then how
    many pages.

    >>> also_reported((Reported("a", source="CNN"), Reported("b", source="USA Today"), Reported("c", source="CNN")))
    'also reported by CNN, USA Today (3)'
    >>> also_reported(())
    ''
    """
    if not members:
        return ""
    return f"also reported by {', '.join(dict.fromkeys(outlet(m) for m in members))} ({len(members)})"
