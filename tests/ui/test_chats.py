"""Saved conversations and ratings in SQLite: they outlive the page, keep their answers whole, export cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.records import Answer, Chunk, Citation, Passage, SentenceCheck
from ui.chats import ChatStore, Turn, answer_from_json, answer_to_json, title_for, to_markdown

pytestmark = pytest.mark.unit

CHUNK = Chunk("c1", "wire-1", 0, "The quay reopened on Friday. Boats returned.", 100, 144, "Quay reopens",
              "https://news.example/quay", "Example Wire", "2022-07-01")
ANSWER = Answer(
    question="When did the quay reopen?", text="The quay reopened on Friday [2].",
    citations=(Citation(2, "wire-1", "Quay reopens", "https://news.example/quay", "2022-07-01",
                        "The quay reopened on Friday.", 100, 128, "Example Wire"),),
    passages=(Passage(CHUNK, {"dense": 0.61, "fused": 0.03}),), mode="extractive", timings_ms={"total": 12.5},
    warnings=("a warning",), checks=(SentenceCheck("The quay reopened on Friday.", "supported", 0.9, 2),),
    standalone_question="When did the quay reopen?",
)


def test_an_answer_survives_the_round_trip_through_json_unchanged() -> None:
    assert answer_from_json(answer_to_json(ANSWER)) == ANSWER


def test_a_chat_is_titled_by_its_first_question_and_reopens_from_a_new_store_object(tmp_path: Path) -> None:
    chat = ChatStore(tmp_path).create()
    assert ChatStore(tmp_path).chats() == []  # an empty chat is not listed
    store = ChatStore(tmp_path)
    store.add_turn(chat.id, Turn(ANSWER.question, ANSWER, asked_on="2022-07-02"))
    store.add_turn(chat.id, Turn("And then?", notice="No articles indexed yet.", notice_kind="info"))

    reopened = ChatStore(tmp_path)  # as after a restart: nothing but the file
    [listed] = reopened.chats()
    assert listed.id == chat.id and listed.title == "When did the quay reopen?"
    turns = reopened.turns(chat.id)
    assert [t.question for t in turns] == ["When did the quay reopen?", "And then?"]
    assert turns[0].answer == ANSWER and turns[0].asked_on == "2022-07-02"
    assert turns[1].answer is None and turns[1].notice == "No articles indexed yet."


def test_rename_delete_and_most_recent_first(tmp_path: Path) -> None:
    store = ChatStore(tmp_path)
    first, second = store.create(), store.create()
    store.add_turn(first.id, Turn("First question?"))
    store.add_turn(second.id, Turn("Second question?"))
    assert [c.id for c in store.chats()] == [second.id, first.id]
    store.rename(first.id, "  Quay   story ")
    store.add_turn(first.id, Turn("Follow-up?"))  # a later question does not retitle a renamed chat
    assert [(c.id, c.title) for c in store.chats()] == [(first.id, "Quay story"), (second.id, "Second question?")]
    store.rename(first.id, "   ")  # a blank title is ignored
    assert store.get(first.id).title == "Quay story"  # type: ignore[union-attr]
    store.delete(second.id)
    assert store.get(second.id) is None and store.turns(second.id) == []
    assert [c.id for c in store.chats()] == [first.id]


def test_ratings_keep_what_was_rated(tmp_path: Path) -> None:
    store = ChatStore(tmp_path)
    chat = store.create()
    store.add_turn(chat.id, Turn(ANSWER.question, ANSWER, asked_on="2022-07-02"))
    store.rate(chat.id, 0, 1)
    store.rate(chat.id, 0, 0, "  wrong day ")  # changing one's mind replaces the rating
    store.rate(chat.id, 5, 1)  # no such turn: ignored
    [rating] = store.ratings()
    assert (rating.rating, rating.comment, rating.asked_on) == (0, "wrong day", "2022-07-02")
    assert rating.question == ANSWER.question and rating.answer == ANSWER.text
    assert rating.citations[0]["article_id"] == "wire-1" and rating.citations[0]["start"] == 100


def test_markdown_export_numbers_sources_by_article_with_their_quotes() -> None:
    md = to_markdown("Quay story", [Turn(ANSWER.question, ANSWER, asked_on="2022-07-02"), Turn("Why?", notice="Hm.")])
    assert md.startswith("# Quay story\n")
    assert "The quay reopened on Friday [1]." in md  # passage [2] is article [1]
    assert "[1] [Quay reopens](https://news.example/quay) (Example Wire · 2022-07-01)" in md
    assert "    > The quay reopened on Friday." in md
    assert "*Asked as of 2022-07-02*" in md and "> Hm." in md
    json.dumps(md)  # plain text


def test_titles_are_one_short_line() -> None:
    assert title_for("a\n\nb") == "a b"
    long = title_for("word " * 50)
    assert len(long) <= 80 and long.endswith("…")
