"""The page's saved chats, question date, ratings, starters and Articles page, through AppTest on a real store."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import APP, SEED_QUESTION, app_on, ask, page_text
from ui.chats import ChatStore

pytestmark = pytest.mark.integration


def assistant_turns(at: AppTest) -> list:  # type: ignore[type-arg]
    return [m for m in at.chat_message if m.name == "assistant"]


def test_a_question_is_saved_and_the_chat_reopens_from_the_url(
    bundled_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = ask(app_on(bundled_data, monkeypatch).run(), SEED_QUESTION)
    chat_id = at.query_params["chat"]
    [saved] = ChatStore(bundled_data).chats()
    assert saved.id == chat_id and saved.title == SEED_QUESTION
    try:
        reopened = AppTest.from_file(str(APP), default_timeout=30)
        reopened.query_params["chat"] = chat_id  # as a reload of ...?chat=<id>
        reopened.run()
        [turn] = assistant_turns(reopened)
        assert turn.markdown[0].value.startswith("Anthropic")
        assert any("nd-source" in h.value for h in turn.get("html"))
        assert [b.label for b in reopened.sidebar.button][:2] == ["New conversation", SEED_QUESTION]
    finally:
        ChatStore(bundled_data).delete(chat_id)  # the data dir is shared by this module's tests


def test_the_as_of_date_is_the_question_date_and_shown_in_the_footer(
    bundled_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app_on(bundled_data, monkeypatch).run()
    [as_of] = [d for d in at.sidebar.date_input if d.label == "As of"]
    assert as_of.value == date.today()
    as_of.set_value(date(2026, 11, 30)).run()
    at = ask(at, SEED_QUESTION)
    turn = at.session_state["turns"][0]
    assert turn.asked_on == "2026-11-30"
    assert "as of 2026-11-30" in " ".join(c.value for c in assistant_turns(at)[0].caption)
    chat_id = at.query_params["chat"]
    try:
        assert ChatStore(bundled_data).turns(chat_id)[0].asked_on == "2026-11-30"
    finally:
        ChatStore(bundled_data).delete(chat_id)


def test_an_answer_asked_today_has_no_date_in_its_footer(bundled_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = ask(app_on(bundled_data, monkeypatch).run(), SEED_QUESTION)
    assert "as of" not in " ".join(c.value for c in assistant_turns(at)[0].caption)
    ChatStore(bundled_data).delete(at.query_params["chat"])


def test_starter_questions_come_from_the_headlines_and_ask_when_clicked(
    bundled_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app_on(bundled_data, monkeypatch).run()
    [starter] = [b for b in at.button if b.key and b.key.startswith("starter-")]
    assert "Anthropic lobbies the Trump White House" in starter.label
    at = starter.click().run()
    assert not at.exception
    [turn] = assistant_turns(at)
    assert turn.markdown[0].value.startswith("Anthropic")
    ChatStore(bundled_data).delete(at.query_params["chat"])


def test_the_articles_page_lists_searches_and_deletes(tmp_path: Path, tiny_corpus: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.ui.conftest import ingest_into

    data_dir = tmp_path / "managed"
    ingest_into(data_dir, tiny_corpus)
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run().switch_page("articles_page.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "6 of 6 articles" in page_text(at)
    at.text_input[0].set_value("bike").run()
    assert "1 of 6 articles" in page_text(at)
    [picker] = [m for m in at.multiselect if m.label == "Articles to delete"]
    assert picker.options == ["City council approves bike lanes on Main Street · council.md"]
    picker.select("council.md").run()
    [delete] = [b for b in at.button if b.label == "Delete"]
    assert delete.disabled  # not until confirmed
    at.checkbox[0].check().run()
    [delete] = [b for b in at.button if b.label == "Delete"]
    at = delete.click().run()
    assert not at.exception
    at.text_input[0].set_value("").run()
    assert "5 of 5 articles" in page_text(at)


def test_a_thumbs_down_and_comment_are_stored_with_the_answer(
    bundled_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = ask(app_on(bundled_data, monkeypatch).run(), SEED_QUESTION)
    chat_id = at.query_params["chat"]
    try:
        [thumbs] = at.feedback
        thumbs.set_value(0).run()
        [rating] = ChatStore(bundled_data).ratings()
        assert (rating.chat_id, rating.seq, rating.rating, rating.comment) == (chat_id, 0, 0, "")
        assert rating.answer.startswith("Anthropic") and rating.citations
        [comment] = [t for t in at.text_area if t.label == "What was right or wrong?"]
        comment.set_value("Should name the Commerce Department").run()
        [save] = [b for b in at.button if b.label == "Save comment"]
        save.click().run()
        [rating] = ChatStore(bundled_data).ratings()
        assert (rating.rating, rating.comment) == (0, "Should name the Commerce Department")
    finally:
        ChatStore(bundled_data).delete(chat_id)


def test_a_job_with_many_rejections_shows_the_first_few_and_folds_the_rest(
    bundled_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest.jobs import JobQueue

    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(5):
        (bad / f"empty-{i}.txt").write_text("   \n", "utf-8")
    at = app_on(bundled_data, monkeypatch).run()  # starts the server's worker
    queue = JobQueue(bundled_data)
    job = queue.submit([bad], total=5)
    deadline = time.monotonic() + 60
    while (current := queue.get(job.id)) is not None and current.active:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    at.run()
    rejected = [c.value for c in at.sidebar.caption if c.value.startswith("rejected: ")]
    assert rejected == [f"rejected: empty-{i}.txt: empty: no text to index" for i in range(3)]
    [folded] = [e for e in at.sidebar.expander if "more rejected" in e.label]
    assert folded.label == "2 more rejected"
    assert "empty-4.txt" in folded.text[0].value
    assert any("rejected 5" in e.value for e in at.sidebar.error)  # nothing went in: an error, with the count
