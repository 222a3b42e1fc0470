"""Question-set loading: the bundled set, the RealTime QA layout, and clear errors with file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.questions import iso_date, load_questions
from rag.errors import InputError

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "eval" / "questions" / "bundled.jsonl"
ARTICLE = REPO / "corpus" / "000_78dbcec5bdb2f3cc.txt"

RTQA_LINE = {
    "id": "rtqa-20220617_1",
    "question": "Which continent will soon require a single common charging standard?",
    "answer": "Europe", "answerable": True,
    "sources": ["https://www.cnn.com/2022/06/12/tech/lightning-cable-usbc-nightcap/index.html#:~:text=The%20company"],
    "asked_on": "2022/06/16", "choices": ["Europe", "North America", "Asia", "Africa"],
}


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_realtimeqa_layout_loads_as_is(tmp_path: Path) -> None:
    (question,) = load_questions(_write(tmp_path, json.dumps(RTQA_LINE)))
    assert question.id == "rtqa-20220617_1" and question.answer == "Europe" and question.answerable
    assert question.asked_on == "2022-06-16"
    assert question.sources == (RTQA_LINE["sources"][0],)
    assert question.extra == {"choices": ["Europe", "North America", "Asia", "Africa"]}


def test_defaults_blank_lines_and_limit(tmp_path: Path) -> None:
    path = _write(tmp_path, '{"id": "a", "question": "Q1?", "answer": "x"}', "",
                  '{"id": "b", "question": "Q2?", "answerable": false}', '{"id": 3, "question": "Q3?", "answer": "y"}')
    questions = load_questions(path)
    assert [q.id for q in questions] == ["a", "b", "3"]
    assert questions[0].answerable and not questions[1].answerable and questions[1].answer == ""
    assert questions[0].keywords == () and questions[0].sources == () and questions[0].asked_on == ""
    assert [q.id for q in load_questions(path, limit=2)] == ["a", "b"]


@pytest.mark.parametrize(
    ("lines", "where", "says"),
    [
        (['{"id": "a", "question": "Q?", "answer": "x"}', '{"id": "b", "question": "Q?"'], ":2:", "malformed JSON"),
        (['{"question": "Q?", "answer": "x"}'], ":1:", "'id'"),
        (['{"id": "a", "question": "", "answer": "x"}'], ":1:", "'question'"),
        (['{"id": "a", "question": "Q?"}'], ":1:", "needs a non-empty 'answer' or 'keywords'"),
        (['{"id": "a", "question": "Q?", "answer": "x", "answerable": "yes"}'], ":1:", "true or false"),
        (['{"id": "a", "question": "Q?", "answer": "x", "keywords": [1]}'], ":1:", "'keywords' must be a list"),
        (['{"id": "a", "question": "Q?", "answer": "x", "asked_on": "last week"}'], ":1:", "not a date"),
        (['["a", "b"]'], ":1:", "not a JSON object"),
        (['{"id": "a", "question": "Q?", "answer": "x"}', '{"id": "a", "question": "R?", "answer": "y"}'], ":2:",
         "duplicate id 'a' (first on line 1)"),
        (["", "  "], "", "holds no questions"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, lines: list[str], where: str, says: str) -> None:
    path = _write(tmp_path, *lines)
    with pytest.raises(InputError) as caught:
        load_questions(path, limit=1)  # a bad line after the limit still fails: the whole file is checked
    message = str(caught.value)
    assert f"{path}{where}" in message and says in message


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--questions"):
        load_questions(tmp_path / "nope.jsonl")


def test_iso_date() -> None:
    assert iso_date("2022/6/1") == "2022-06-01"
    with pytest.raises(ValueError):
        iso_date("2022/13/01")


def test_bundled_set_is_well_formed_and_true_to_the_article() -> None:
    questions = load_questions(BUNDLED)
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    assert len(answerable) >= 20 and len(unanswerable) >= 8
    text = ARTICLE.read_text("utf-8").lower()
    for q in answerable:
        assert q.sources == (ARTICLE.name,), q.id
        assert q.keywords, q.id
        for keyword in q.keywords:  # a verbatim extract holding the right sentence can pass
            assert keyword.lower() in text, (q.id, keyword)
    assert all(not q.sources for q in unanswerable)


def test_a_conversation_line_becomes_its_turns_in_order(tmp_path: Path) -> None:
    line = {"id": "c1", "asked_on": "2022/06/16", "turns": [
        {"question": "Which show was renewed?", "answer": "Squid Game", "sources": ["x"]},
        {"question": "Who directs it?", "answer": "Hwang Dong-hyuk", "keywords": ["Hwang"]},
    ]}
    alone = '{"id": "q", "question": "Q?", "answer": "a"}'
    first, second, third = load_questions(_write(tmp_path, json.dumps(line), alone))
    assert (first.id, first.conversation, first.turn, first.asked_on) == ("c1#1", "c1", 1, "2022-06-16")
    assert (second.id, second.turn, second.keywords) == ("c1#2", 2, ("Hwang",))
    assert (third.id, third.conversation, third.turn) == ("q", "", 0)


@pytest.mark.parametrize(
    ("turns", "says"),
    [([{"question": "Only one?", "answer": "x"}], "at least two"),
     ([{"question": "Q1?", "answer": "x"}, {"question": "", "answer": "y"}], "turn 2: 'question'")],
)
def test_a_bad_conversation_names_its_line_and_turn(tmp_path: Path, turns: list[dict[str, str]], says: str) -> None:
    with pytest.raises(InputError, match=f":1: .*{says}"):
        load_questions(_write(tmp_path, json.dumps({"id": "c", "turns": turns})))
