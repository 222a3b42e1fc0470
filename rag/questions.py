"""Questions before retrieval: validation, and the offline rewrite of follow-ups into standalone questions."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.errors import InputError
from rag.words import STOPWORDS, tokenize

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
    """Offline follow-up rewrite: a question that leans on the conversation borrows what it is about.

    A question leans on the conversation when it names nothing of its own and refers back (a pronoun,
    "there", "that") or has fewer than three content words. It then borrows the names in the previous
    answer (the fact it named: the show, the company) and the content words of the previous question, itself
    rewritten first when it leaned on the turn before (so a third turn keeps the thread).

    >>> standalone_question("Who directs it?", [("Which show was renewed?", "Netflix renewed Squid Game. [1]")])
    'Who directs it? (Netflix Squid Game show renewed)'
    >>> standalone_question("Who founded Anthropic?", [("Which company lobbies?", "Anthropic [1]")])
    'Who founded Anthropic?'
    """
    if not history or not leans_on_context(question):
        return question
    previous, answer = history[-1]
    previous = standalone_question(previous, history[:-1])
    own = set(tokenize(question))
    names = [n for n in answer_names(answer) if not set(tokenize(n)) <= own]
    topic = [t for t in tokenize(previous) if t not in _PRONOUNS and t not in own]
    borrowed = list(dict.fromkeys([*names, *topic]))
    return f"{question} ({' '.join(borrowed)})" if borrowed else question


def leans_on_context(question: str) -> bool:
    """Whether a question needs the conversation to be understood.

    >>> leans_on_context("How much will it cost per month?"), leans_on_context("Who directs Squid Game?")
    (True, False)
    >>> leans_on_context("And the director?"), leans_on_context("Why did it take NASA so long to launch Artemis?")
    (True, False)
    """
    words = {w.lower() for w in _WORD.findall(question)}
    content = [t for t in tokenize(question) if t not in _PRONOUNS]
    return not answer_names(question) and (len(content) < 3 or bool(words & _PRONOUNS))


_NAME = re.compile(r"\b[A-Z][\w'’.&-]*(?:\s+(?:of|de|the)?\s*[A-Z][\w'’.&-]*)*")
_MARKERS = re.compile(r"\[\d+\]")


def answer_names(text: str) -> list[str]:
    """The names in ``text``: runs of capitalised words. A sentence's first word counts unless it is a
    pronoun or a function word ("It", "The"); an ordinary word that starts a sentence ("Officials") slips
    through, which costs a query one extra word, while leaving out "Netflix renewed…" would lose the name.

    >>> answer_names("Netflix renewed Squid Game for a second season. It premieres in June. [1]")
    ['Netflix', 'Squid Game', 'June']
    """
    found = []
    for match in _NAME.finditer(_MARKERS.sub(" ", text)):
        name = match.group().strip(" .'’")
        if name and name.lower() not in STOPWORDS and name.lower() not in _PRONOUNS:
            found.append(name)
    return list(dict.fromkeys(found))
