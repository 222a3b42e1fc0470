"""What kind of answer a question asks for, and whether a sentence could hold one.

Without an NLI or QA model offline, this is the cheapest strong signal against near-miss answers: "How
much did Amazon invest?" is not answered by a sentence that names Amazon but holds no amount.
"""

from __future__ import annotations

import re
from typing import Literal

AnswerType = Literal["number", "time", "person", "any"]

_NUMBER_Q = re.compile(
    r"^\s*(how (much|many|long|far|old|big|large|high|often)|what (percentage|percent|share|fraction|amount|"
    r"number|price|valuation|age)|at what (price|rate|age))\b",
    re.IGNORECASE,
)
_TIME_Q = re.compile(r"^\s*(when|what (year|month|day|date|time)|in what year|on what (day|date)|by when)\b", re.I)
_PERSON_Q = re.compile(r"^\s*(who|whom|whose)\b", re.IGNORECASE)

# "one", "several", "few" and "many" say no amount ("one that has also accepted substantial investment").
_NUMBER_WORDS = (
    r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion|trillion|dozen|dozens|half|third|quarter"
)
_HAS_NUMBER = re.compile(rf"\d|\b({_NUMBER_WORDS})\b", re.IGNORECASE)
_MONTHS = (
    r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|(?-i:May)|june?|july?|aug(ust)?|sep(t(ember)?)?|oct(ober)?|"
    r"nov(ember)?|dec(ember)?"
)
_HAS_TIME = re.compile(
    rf"\b(\d{{4}}|{_MONTHS}|monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|"
    r"tomorrow|tonight|(this|last|next|that) (week|month|year|weekend|spring|summer|fall|autumn|winter)|"
    r"ago)\b",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")


def answer_type(question: str) -> AnswerType:
    """The kind of answer ``question`` asks for.

    >>> answer_type("How much did Amazon invest?"), answer_type("When did it start?"), answer_type("Who won?")
    ('number', 'time', 'person')
    >>> answer_type("Which company is lobbying?")
    'any'
    """
    if _NUMBER_Q.search(question):
        return "number"
    if _TIME_Q.search(question):
        return "time"
    if _PERSON_Q.search(question):
        return "person"
    return "any"


def could_answer(kind: AnswerType, sentence: str, question: str) -> bool:
    """Whether ``sentence`` holds something of the asked kind (a number, a time, a name not in the question).

    >>> could_answer("number", "Amazon invested $4 billion.", "How much?")
    True
    >>> could_answer("number", "It accepted investment from Amazon.", "How much did Amazon invest?")
    False
    >>> could_answer("person", "The Hill reported it.", "Who reported it?")
    True
    """
    if kind == "number":
        return bool(_HAS_NUMBER.search(sentence))
    if kind == "time":
        return bool(_HAS_TIME.search(sentence))
    if kind == "person":
        asked = {w.lower() for w in re.findall(r"\w+", question)}
        return any(m.group().lower() not in asked for m in _CAPITALISED.finditer(sentence))
    return True


_NAME_OR_NUMBER = re.compile(r"\b(?:[A-Z][\w'’.-]*|\d[\d,.]*)")
# Capitalised but never the answer: sentence glue, and the wire-service datelines news text starts with.
_FILLER = frozenset("the a an in on at but and or as it its this that these those he she they we i cnn".split())


def names_something_new(sentence: str, question: str) -> bool:
    """Whether ``sentence`` holds a name or number absent from ``question`` (the first word does not count:
    every sentence starts with a capital).

    >>> names_something_new("Ford recalled 2.9 million cars.", "Which automaker recalled cars?")
    True
    >>> names_something_new("The automaker recalled cars.", "Which automaker recalled cars?")
    False
    """
    asked = {w.lower().strip(".,'’") for w in re.findall(r"[\w'’.-]+", question)}
    for match in _NAME_OR_NUMBER.finditer(sentence):
        if match.start() == 0:
            continue
        word = match.group().lower().strip(".,'’")
        if word and word not in asked and word not in _FILLER:
            return True
    return False
