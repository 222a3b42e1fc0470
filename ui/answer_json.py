"""The `newsdesk ask --json` object: one answer as plain JSON, shared by the CLI and the HTTP API.

Its own module rather than part of ``ui/cli.py`` because the CLI starts the API (`newsdesk serve`) and the
API returns this object: both import it from here, so the two edges do not import each other.
"""

from __future__ import annotations

from typing import Any


def answer_json(answer: Any) -> dict[str, Any]:
    """The `ask --json` object (also what eval stores per question)."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "refused": answer.refused,
        "mode": answer.mode,
        "citations": [
            {"n": c.n, "article_id": c.article_id, "title": c.title, "url": c.url, "published_at": c.published_at,
             "source": c.source, "quote": c.quote, "start": c.start, "end": c.end, "also": _also(c.also)}
            for c in answer.citations
        ],
        "passages": [
            {"n": i, "article_id": p.chunk.article_id, "title": p.chunk.title, "url": p.chunk.url,
             "published_at": p.chunk.published_at, "source": p.chunk.source, "text": p.chunk.text,
             "start": p.chunk.start, "end": p.chunk.end, "scores": p.scores, "also": _also(p.also)}
            for i, p in enumerate(answer.passages, start=1)
        ],
        "checks": [
            {"sentence": c.sentence, "verdict": c.verdict, "score": round(c.score, 4), "citation": c.citation,
             "article_id": c.article_id, "span": c.span, "start": c.start, "end": c.end}
            for c in answer.checks
        ],
        "warnings": list(answer.warnings),
        "standalone_question": answer.standalone_question,
        "searched": list(answer.searched) if answer.searched else None,  # time words' range (rag/time_query.py)
        "timings_ms": answer.timings_ms,
    }


def _also(members: Any) -> list[dict[str, str]]:
    """The story's other pages folded into this source (``rag.records.Reported``): "also reported by"."""
    return [{"article_id": m.article_id, "title": m.title, "source": m.source, "url": m.url,
             "published_at": m.published_at} for m in members]
