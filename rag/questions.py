"""Questions before retrieval: validation, and the offline rewrite of follow-ups into standalone questions."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.errors import InputError
from rag.lexical import tokenize

MAX_QUESTION_CHARS = 2000
_PRONOUNS = frozenset("it its they them their theirs he him his she her hers this that these those there such".split())
_WORD = re.compile(r"\w+", re.UNICODE)

History = Sequence[tuple[str, str]]  # (question, answer text) pairs, oldest first


def validate_question(question: str) -> str:
    """The question stripped, or an ``InputError`` that says how to ask.

    >>> validate_question("  Who won?  ")
    'Who won?'
    """
    text = " ".join((question or "").split())
    if not text:
        raise InputError("The question is empty: type a question about your articles.")
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(
            f"The question is {len(text):,} characters long; keep it under {MAX_QUESTION_CHARS:,} "
            "(ask about one thing at a time)."
        )
    if not _WORD.search(text):
        raise InputError("The question has no words to search for: ask it in words.")
    return text


def standalone_question(question: str, history: History) -> str:
    """Offline follow-up rewrite: a question that leans on the conversation (a pronoun and fewer than three
    content words of its own) borrows the content words of the previous question.

    >>> standalone_question("Who leads it?", [("Which company lobbies the White House?", "Anthropic [1]")])
    'Who leads it? (company lobbies white house)'
    >>> standalone_question("Who founded Anthropic?", [("Which company lobbies?", "Anthropic [1]")])
    'Who founded Anthropic?'
    """
    if not history:
        return question
    words = {w.lower() for w in _WORD.findall(question)}
    own = tokenize(question)
    content = [t for t in own if t not in _PRONOUNS]
    if not (words & _PRONOUNS) or len(content) >= 3:
        return question
    previous = [t for t in tokenize(history[-1][0]) if t not in _PRONOUNS and t not in content]
    if not previous:
        return question
    return f"{question} ({' '.join(dict.fromkeys(previous))})"
