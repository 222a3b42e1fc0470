"""Saved conversations and answer ratings, in ``<data_dir>/chats.sqlite``. No Streamlit here.

A chat is titled by its first question until renamed. Each turn keeps the whole ``Answer`` (as JSON), so a
reopened chat shows its sources exactly as they were, even after the articles have changed.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.sqlite_files import transaction
from rag.records import Answer, Chunk, Citation, Passage, Reported, SentenceCheck

CHATS_FILE = "chats.sqlite"
TITLE_CHARS = 80

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
    question TEXT NOT NULL, answer TEXT, notice TEXT NOT NULL DEFAULT '', notice_kind TEXT NOT NULL DEFAULT 'info',
    asked_on TEXT NOT NULL DEFAULT '', PRIMARY KEY (chat_id, seq)
);
CREATE TABLE IF NOT EXISTS feedback (
    chat_id TEXT NOT NULL, seq INTEGER NOT NULL, rating INTEGER NOT NULL, comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL, answer TEXT NOT NULL, citations TEXT NOT NULL, asked_on TEXT NOT NULL,
    created TEXT NOT NULL, PRIMARY KEY (chat_id, seq)
);
"""


@dataclass(frozen=True)
class Turn:
    """One exchange: the question and either the answer or the message that stood in for it."""

    question: str
    answer: Answer | None = None
    notice: str = ""
    notice_kind: str = "info"  # info | warning | error
    asked_on: str = ""  # the question's date (ISO) when it was not asked today


@dataclass(frozen=True)
class Chat:
    id: str
    title: str
    created: str
    updated: str


@dataclass(frozen=True)
class Rating:
    """A user's thumbs up (1) or down (0) on one answer, with what was rated."""

    chat_id: str
    seq: int
    rating: int
    comment: str
    question: str
    answer: str
    citations: tuple[dict[str, Any], ...]
    asked_on: str
    created: str


def title_for(question: str) -> str:
    """A chat's title from its first question: one line, at most ``TITLE_CHARS`` characters.

    >>> title_for("  Who won\\nthe vote?  "), len(title_for("word " * 40)) <= TITLE_CHARS
    ('Who won the vote?', True)
    """
    line = " ".join(question.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class ChatStore:
    """Chats, their turns and ratings; every call opens its own connection (safe from any thread)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / CHATS_FILE

    def _db(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path, _SCHEMA, "the saved chats", foreign_keys=True)

    def create(self, title: str = "New chat") -> Chat:
        now = _now()
        chat = Chat(uuid.uuid4().hex[:12], title, now, now)
        with self._db() as db:
            db.execute("INSERT INTO chats VALUES (?, ?, ?, ?)", (chat.id, chat.title, chat.created, chat.updated))
        return chat

    def get(self, chat_id: str) -> Chat | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM chats WHERE id = ?", (chat_id,)).fetchone()
        return None if row is None else Chat(row["id"], row["title"], row["created"], row["updated"])

    def chats(self, limit: int = 200) -> list[Chat]:
        """Chats with at least one turn, most recently used first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM chats WHERE EXISTS (SELECT 1 FROM turns WHERE chat_id = chats.id) "
                "ORDER BY updated DESC LIMIT ?", (limit,),
            ).fetchall()
        return [Chat(r["id"], r["title"], r["created"], r["updated"]) for r in rows]

    def turns(self, chat_id: str) -> list[Turn]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM turns WHERE chat_id = ? ORDER BY seq", (chat_id,)).fetchall()
        return [
            Turn(r["question"], answer_from_json(r["answer"]) if r["answer"] else None, r["notice"], r["notice_kind"],
                 r["asked_on"])
            for r in rows
        ]

    def add_turn(self, chat_id: str, turn: Turn) -> int:
        """Append ``turn`` (creating the chat if it is gone); the first question titles an untitled chat."""
        now = _now()
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO chats VALUES (?, 'New chat', ?, ?)", (chat_id, now, now))
            seq = db.execute("SELECT COUNT(*) FROM turns WHERE chat_id = ?", (chat_id,)).fetchone()[0]
            db.execute(
                "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?)",
                (chat_id, seq, turn.question, answer_to_json(turn.answer) if turn.answer else None, turn.notice,
                 turn.notice_kind, turn.asked_on),
            )
            if seq == 0:
                db.execute("UPDATE chats SET title = ? WHERE id = ? AND title = 'New chat'",
                           (title_for(turn.question), chat_id))
            db.execute("UPDATE chats SET updated = ? WHERE id = ?", (now, chat_id))
        return int(seq)

    def rename(self, chat_id: str, title: str) -> None:
        title = " ".join(title.split())
        if title:
            with self._db() as db:
                db.execute("UPDATE chats SET title = ? WHERE id = ?", (title[:200], chat_id))

    def delete(self, chat_id: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM turns WHERE chat_id = ?", (chat_id,))
            db.execute("DELETE FROM chats WHERE id = ?", (chat_id,))

    # --- ratings -------------------------------------------------------------------------------------
    def rate(self, chat_id: str, seq: int, rating: int, comment: str = "") -> None:
        """Store (or replace) the rating of turn ``seq`` of ``chat_id``, with the answer it rates."""
        turns = self.turns(chat_id)
        if not 0 <= seq < len(turns) or turns[seq].answer is None:
            return
        turn = turns[seq]
        answer = turn.answer
        assert answer is not None
        citations = [asdict(c) for c in answer.citations]
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (chat_id, seq, 1 if rating else 0, comment.strip(), turn.question, answer.text,
                 json.dumps(citations), turn.asked_on, _now()),
            )

    def rating(self, chat_id: str, seq: int) -> Rating | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM feedback WHERE chat_id = ? AND seq = ?", (chat_id, seq)).fetchone()
        return None if row is None else _rating(row)

    def ratings(self) -> list[Rating]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM feedback ORDER BY created").fetchall()
        return [_rating(r) for r in rows]


def _rating(row: sqlite3.Row) -> Rating:
    return Rating(row["chat_id"], row["seq"], row["rating"], row["comment"], row["question"], row["answer"],
                  tuple(json.loads(row["citations"])), row["asked_on"], row["created"])


def answer_to_json(answer: Answer) -> str:
    return json.dumps(asdict(answer), ensure_ascii=False)


def answer_from_json(text: str) -> Answer:
    """The ``Answer`` ``answer_to_json`` wrote (records rebuilt, tuples restored)."""
    data = json.loads(text)
    return Answer(
        question=data["question"], text=data["text"],
        citations=tuple(Citation(**{**c, "also": _reported(c.get("also", ()))}) for c in data["citations"]),
        passages=tuple(Passage(Chunk(**p["chunk"]), p["scores"], _reported(p.get("also", ())))
                       for p in data["passages"]),
        refused=data["refused"], mode=data["mode"], timings_ms=data["timings_ms"],
        warnings=tuple(data["warnings"]), checks=tuple(SentenceCheck(**c) for c in data["checks"]),
        standalone_question=data["standalone_question"],
    )


def _reported(members: list[dict[str, str]]) -> tuple[Reported, ...]:
    """A story's other pages as saved ("also reported by"); chats saved before stories have none."""
    return tuple(Reported(**m) for m in members)


def to_markdown(title: str, turns: list[Turn]) -> str:
    """A chat as Markdown: each question, its answer (numbered by article) and the quotes it cites."""
    from rag.numbering import number_by_article

    lines = [f"# {title}", ""]
    for turn in turns:
        lines += [f"## {turn.question}", ""]
        if turn.asked_on:
            lines += [f"*Asked as of {turn.asked_on}*", ""]
        if turn.answer is None:
            lines += [f"> {turn.notice}", ""]
            continue
        numbered = number_by_article(turn.answer.text, turn.answer.citations)
        lines += [numbered.text, ""]
        for source in numbered.sources:
            meta = " · ".join(x for x in (source.source, source.published_at) if x)
            name = source.title or source.article_id
            name = f"[{name}]({source.url})" if source.url else name
            lines.append(f"[{source.n}] {name}" + (f" ({meta})" if meta else ""))
            lines += [f"    > {' '.join(c.quote.split())}" for c in source.citations]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
