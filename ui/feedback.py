"""Ratings as a regression set: `newsdesk feedback export` writes them in the eval question-set format.

Each rated answer becomes a line ``eval/questions.py`` loads: the question, its date, the articles it cited
and the answer as a draft reference. A thumbs up says the behaviour was right (an answer stays answerable, a
refusal becomes ``answerable: false``); a thumbs down flags the line for review (``review`` says what to fix).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rag.citations import MARKER
from rag.records import REFUSAL
from ui.chats import Rating

TODO = "TODO: write the right answer"


def question_line(rating: Rating) -> dict[str, Any]:
    """One rating as a question-set record (see ``eval.questions.parse_question``).

    >>> r = Rating("c1", 0, 1, "", "Who won?", "Ana won [2].", ({"article_id": "a.txt", "url": ""},), "2022-06-01", "")
    >>> question_line(r)["answer"], question_line(r)["answerable"], question_line(r)["sources"]
    ('Ana won.', True, ['a.txt'])
    """
    refused = rating.answer.strip() == REFUSAL
    draft = " ".join(MARKER.sub("", rating.answer).split()).replace(" .", ".")
    sources = list(dict.fromkeys(c.get("url") or c.get("article_id", "") for c in rating.citations))
    line: dict[str, Any] = {"id": f"feedback-{rating.chat_id}-{rating.seq}", "question": rating.question}
    if rating.rating:  # the behaviour was right: keep it
        line.update(answer="" if refused else draft, answerable=not refused)
    elif refused:  # it should have answered
        line.update(answer=rating.comment or TODO, answerable=True, review="refused, rated wrong: write the answer")
    else:
        line.update(answer=rating.comment or draft, answerable=True,
                    review="answer rated wrong: correct the reference (or set answerable false)")
    if sources := [s for s in sources if s]:
        line["sources"] = sources
    if rating.asked_on:
        line["asked_on"] = rating.asked_on
    if rating.comment:
        line["comment"] = rating.comment
    return line


def question_set(ratings: Iterable[Rating]) -> str:
    """The ratings as JSONL, one question per rated answer."""
    return "".join(json.dumps(question_line(r), ensure_ascii=False) + "\n" for r in ratings)
