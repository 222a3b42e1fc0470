"""Question sets: one JSON object per line, validated up front so a typo fails before an hour-long run.

A line holds ``id``, ``question``, ``answer`` (reference text), ``answerable`` (default true) and optionally
``keywords``, ``sources`` (article ids or urls) and ``asked_on`` (the date the question was asked). Unknown
keys are kept aside, not rejected, so the RealTime QA ``questions.jsonl`` (which adds ``choices``) loads as is.

A line may instead hold a conversation: ``id``, optional ``asked_on``, and ``turns``, a list of question
objects without ids. Each turn becomes a question with id ``<id>#<n>`` (n from 1) that is asked after the turns
before it, with their answers as the history (``Question.turn`` and ``Question.conversation``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rag.errors import InputError

_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


@dataclass(frozen=True)
class Question:
    """One question of a set, with what counts as a right answer and where it should be found."""

    id: str
    question: str
    answer: str = ""
    answerable: bool = True
    keywords: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    asked_on: str = ""  # ISO date (YYYY-MM-DD) or empty
    conversation: str = ""  # the conversation's id when this is one of its turns
    turn: int = 0  # 1, 2, 3 … within its conversation; 0 for a question on its own
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def iso_date(value: str) -> str:
    """A question date as YYYY-MM-DD (RealTime QA writes ``2022/06/16``); raises ValueError if not a date.

    >>> iso_date("2022/6/16"), iso_date("2022-06-16T10:00:00Z"), iso_date("")
    ('2022-06-16', '2022-06-16', '')
    """
    if not value.strip():
        return ""
    match = _DATE.match(value.strip())
    if not match:
        raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)")
    year, month, day = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)")
    return f"{year:04d}-{month:02d}-{day:02d}"


def parse_question(record: Any) -> Question:
    """One decoded JSON line as a ``Question``; raises ValueError saying which field is wrong and how."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object; each line must be an object with 'id' and 'question'")
    qid = record.get("id")
    if isinstance(qid, int) and not isinstance(qid, bool):
        qid = str(qid)
    if not isinstance(qid, str) or not qid.strip():
        raise ValueError("'id' is missing or empty (a string is required)")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("'question' is missing or empty (a string is required)")
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise ValueError(f"'answerable' must be true or false, not {answerable!r}")
    answer = record.get("answer", "")
    if answer is None:
        answer = ""
    if not isinstance(answer, str):
        raise ValueError(f"'answer' must be a string, not {type(answer).__name__}")
    keywords = _strings(record, "keywords")
    if answerable and not answer.strip() and not keywords:
        raise ValueError("an answerable question needs a non-empty 'answer' or 'keywords' to be scored")
    asked_on = record.get("asked_on") or ""
    if not isinstance(asked_on, str):
        raise ValueError(f"'asked_on' must be a date string, not {asked_on!r}")
    known = {"id", "question", "answer", "answerable", "keywords", "sources", "asked_on"}
    return Question(
        id=qid.strip(),
        question=question.strip(),
        answer=answer.strip(),
        answerable=answerable,
        keywords=keywords,
        sources=_strings(record, "sources"),
        asked_on=iso_date(asked_on),
        extra={k: v for k, v in record.items() if k not in known},
    )


def parse_conversation(record: dict[str, Any]) -> list[Question]:
    """A conversation line as its turns; raises ValueError saying which turn and field are wrong."""
    cid = record.get("id")
    if not isinstance(cid, str) or not cid.strip():
        raise ValueError("a conversation's 'id' is missing or empty (a string is required)")
    turns = record["turns"]
    if not isinstance(turns, list) or len(turns) < 2 or not all(isinstance(t, dict) for t in turns):
        raise ValueError("'turns' must be a list of at least two question objects")
    questions = []
    for n, turn in enumerate(turns, start=1):
        try:
            q = parse_question({"asked_on": record.get("asked_on", ""), **turn, "id": f"{cid.strip()}#{n}"})
        except ValueError as exc:
            raise ValueError(f"turn {n}: {exc}") from exc
        questions.append(replace(q, conversation=cid.strip(), turn=n))
    return questions


def _strings(record: dict[str, Any], key: str) -> tuple[str, ...]:
    value = record.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"'{key}' must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    """Every question in a JSONL file (the first ``limit`` if given), or InputError naming file:line.

    The whole file is validated even with ``limit``. Blank lines are skipped; a duplicate id is an error
    because per-question rows are keyed by id.
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError as exc:
        raise InputError(f"No question file at {path}; pass --questions FILE (a .jsonl question set).") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read the question file {path}: {exc}") from exc
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
            parsed = (parse_conversation(record) if isinstance(record, dict) and "turns" in record
                      else [parse_question(record)])
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: malformed JSON ({exc.msg} at column {exc.colno}).") from exc
        except ValueError as exc:
            raise InputError(f"{where}: {exc}.") from exc
        for question in parsed:
            if question.id in seen:
                raise InputError(f"{where}: duplicate id {question.id!r} (first on line {seen[question.id]}).")
            seen[question.id] = number
            questions.append(question)
    if not questions:
        raise InputError(f"{path} holds no questions; write one JSON object per line.")
    return questions if limit is None else questions[:limit]
