"""`newsdesk articles`, `newsdesk delete` and `newsdesk feedback export` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.questions import load_questions
from rag.lexical import LexicalIndex
from rag.records import REFUSAL, Answer, Citation
from rag.settings import Settings
from tests.test_cli import _no_traceback, newsdesk
from ui.chats import ChatStore, Turn

pytestmark = pytest.mark.integration


def test_articles_lists_and_delete_removes_record_chunks_and_bm25_entries(tiny_corpus: Path, tmp_path: Path) -> None:
    assert newsdesk("ingest", "--quiet", str(tiny_corpus)).returncode == 0
    listed = newsdesk("articles", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["id"]: r for r in json.loads(listed.stdout)}
    assert set(rows) == {"ports.txt", "council.md", "storm.html", "wire-001", "wire-002", "wire-003"}
    assert rows["council.md"]["source"] == "Springfield Herald" and rows["council.md"]["chunks"] >= 1
    before = json.loads(newsdesk("status", "--json").stdout)

    deleted = newsdesk("delete", "council.md", "no-such-id")
    assert deleted.returncode == 1  # one id was wrong: say so, but still delete the right one
    assert "deleted council.md" in deleted.stdout
    assert "no article 'no-such-id'" in deleted.stderr and "newsdesk articles" in deleted.stderr
    _no_traceback(deleted)

    after = json.loads(newsdesk("status", "--json").stdout)
    expected = (before["articles"] - 1, before["chunks"] - rows["council.md"]["chunks"])
    assert (after["articles"], after["chunks"]) == expected
    assert "council.md" not in {r["id"] for r in json.loads(newsdesk("articles", "--json").stdout)}
    lexical = LexicalIndex(Settings(data_dir=tmp_path / "data").lexical_dir)
    assert lexical.load() and len(lexical) == after["chunks"]
    assert lexical.search("protected bike lanes", 10) == []  # only the deleted article spoke of them
    table = newsdesk("articles")
    assert "storm.html" in table.stdout and "5 articles" in table.stderr


def test_articles_on_an_empty_data_dir_is_an_empty_list() -> None:
    result = newsdesk("articles", "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == []


def test_feedback_export_writes_a_question_set_eval_loads(tmp_path: Path) -> None:
    chats = ChatStore(tmp_path / "data")
    cited = Citation(2, "wire-1", "Quay reopens", "https://news.example/quay", "2022-07-01",
                     "The quay reopened on Friday.", 0, 28, "Example Wire")
    good = Answer("When did the quay reopen?", "The quay reopened on Friday [2].", (cited,))
    refused = Answer("Who is the harbour master?", REFUSAL, refused=True)
    chat = chats.create()
    chats.add_turn(chat.id, Turn(good.question, good, asked_on="2022-07-02"))
    chats.add_turn(chat.id, Turn(refused.question, refused))
    chats.add_turn(chat.id, Turn("And the weather?", notice="No articles indexed yet."))  # not an answer: not rated
    chats.rate(chat.id, 0, 1)
    chats.rate(chat.id, 1, 0, "Ana Price, named in paragraph two")
    chats.rate(chat.id, 2, 1)

    out = tmp_path / "mine.jsonl"
    result = newsdesk("feedback", "export", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "wrote 2 rated answers" in result.stderr
    first, second = load_questions(out)
    assert (first.question, first.answer, first.answerable) == (good.question, "The quay reopened on Friday.", True)
    assert first.asked_on == "2022-07-02" and first.sources == ("https://news.example/quay",)
    assert (second.answer, second.answerable) == ("Ana Price, named in paragraph two", True)  # should have answered
    assert "review" in second.extra
