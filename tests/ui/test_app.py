"""The chat page through Streamlit's AppTest: real pipeline, real store on tmp_path, real ONNX embedder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from rag.records import REFUSAL
from tests.servers.ports import free_port
from tests.ui.conftest import SEED_QUESTION, app_on, ask, ingest_into, page_text

pytestmark = pytest.mark.integration

SEED_QUOTE = "is actively lobbying the Trump White House to ease export controls"


def assistant_turns(at):  # type: ignore[no-untyped-def]
    return [m for m in at.chat_message if m.name == "assistant"]


def test_first_load_shows_the_corpus_status_in_the_sidebar(bundled_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app_on(bundled_data, monkeypatch).run()

    assert not at.exception
    metrics = {m.label: m.value for m in at.sidebar.get("metric")}
    assert metrics == {"Articles": "1", "Chunks": "2"}
    sidebar_text = " ".join(c.value for c in at.sidebar.caption)
    assert "all-MiniLM-L6-v2-onnx-int8" in sidebar_text
    assert "extractive (offline)" in sidebar_text
    assert "Last ingest: never" not in sidebar_text
    assert at.sidebar.multiselect[0].options == ["newsdesk sample"]
    assert at.sidebar.slider[0].value == 5
    assert len(at.chat_input) == 1
    assert not assistant_turns(at)


def test_a_question_gets_a_cited_answer_with_its_quote_in_context(
    bundled_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = ask(app_on(bundled_data, monkeypatch).run(), SEED_QUESTION)

    [turn] = assistant_turns(at)
    answer_md = turn.markdown[0].value
    assert answer_md.startswith("Anthropic")
    assert "\\[1\\]" in answer_md  # the citation marker, shown literally
    cards = [h.value for h in turn.get("html") if "nd-source" in h.value]
    answer = at.session_state["turns"][0].answer
    assert len(cards) == len({c.article_id for c in answer.citations}) == 1  # one card per cited article
    assert cards[0].count("<mark") == len({(c.start, c.end) for c in answer.citations}) >= 1  # every quote in it
    assert "[2]" not in answer_md.replace("\\", "")  # one article, one number however many passages it gave
    assert "](#nd-src-0-1)" in answer_md  # [1] links to its card
    assert 'id="nd-src-0-1"' in cards[0]
    assert f"{SEED_QUOTE}" in cards[0]
    assert "<mark" in cards[0] and "[1]" in cards[0] and "newsdesk sample · 2026-11-27" in cards[0]
    # the highlighted quote sits in its surrounding text: the next sentence of the article follows it
    assert "The company dispatched a team" in cards[0].split("</mark>")[1]
    [why] = turn.expander
    assert why.label == "Why these passages"
    scores = " ".join(h.value for h in why.get("html"))
    assert "dense 0.6" in scores and "BM25" in scores and "fused 0.0" in scores  # the headline is embedded too
    assert not at.error and not at.warning


def test_an_unanswerable_question_is_a_calm_refusal_with_the_closest_passages(
    bundled_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = ask(app_on(bundled_data, monkeypatch).run(), "What is the capital of Australia?")

    [turn] = assistant_turns(at)
    assert [i.value for i in turn.info] and REFUSAL in turn.info[0].value
    assert not at.error
    assert not turn.markdown or REFUSAL not in turn.markdown[0].value  # shown once, as a notice
    assert any(m.value == "**Closest passages**" for m in turn.markdown)
    assert any("nd-passage" in h.value and "Anthropic" in h.value for h in turn.get("html"))
    assert at.session_state["turns"][0].answer.refused


def test_a_follow_up_uses_the_conversation(bundled_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = ask(app_on(bundled_data, monkeypatch).run(), SEED_QUESTION)
    at = ask(at, "Who reported on it?")

    turns = at.session_state["turns"]
    assert [t.question for t in turns] == [SEED_QUESTION, "Who reported on it?"]
    follow_up = turns[1].answer
    # the page passed the history: the follow-up was rewritten with the first question's words
    assert follow_up.standalone_question != "Who reported on it?"
    assert "lobbying" in follow_up.standalone_question
    assert not follow_up.refused
    second = assistant_turns(at)[1].markdown[0].value
    assert "reported on" in second  # who reported on the lobbying: The Hill and Axios, Breitbart, the BBC
    assert len(assistant_turns(at)) == 2  # the first answer is still on the page


def test_new_conversation_forgets_this_session(bundled_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = ask(app_on(bundled_data, monkeypatch).run(), SEED_QUESTION)
    at.sidebar.button[0].click().run()

    assert at.sidebar.button[0].label == "New conversation"
    assert not assistant_turns(at)
    assert at.session_state["turns"] == []


def test_an_empty_store_offers_the_sample_and_then_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app_on(tmp_path / "empty", monkeypatch).run()

    assert not at.exception
    assert "No articles are indexed yet" in at.info[0].value
    assert {m.label: m.value for m in at.sidebar.get("metric")} == {"Articles": "0", "Chunks": "0"}
    at = ask(at, SEED_QUESTION)  # asking anyway: a clear message, not a crash
    [turn] = assistant_turns(at)
    assert "newsdesk ingest" in turn.info[0].value
    assert not at.error

    [load] = [b for b in at.button if b.label == "Load the sample article"]
    at = load.click().run()
    assert not at.exception
    # The sample is ingested by the server's job worker, not in this script run: the page shows it when done.
    deadline = time.monotonic() + 90
    while {m.label: m.value for m in at.sidebar.get("metric")} != {"Articles": "1", "Chunks": "2"} \
            or "Added 1" not in page_text(at):
        assert time.monotonic() < deadline, page_text(at)
        time.sleep(0.5)
        at.run()
    at = ask(at, SEED_QUESTION)
    assert assistant_turns(at)[-1].markdown[0].value.startswith("Anthropic")


def test_a_dead_llm_endpoint_gives_a_warning_and_the_offline_answer(
    bundled_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = free_port()
    monkeypatch.setenv("NEWSDESK_OPENAI_BASE_URL", f"http://127.0.0.1:{dead}/v1")
    monkeypatch.setenv("NEWSDESK_OPENAI_API_KEY", "sk-page-test-0a1b2c3d4e5f")
    monkeypatch.setenv("NEWSDESK_LLM_TIMEOUT", "2")
    monkeypatch.setenv("NEWSDESK_LLM_MAX_RETRIES", "0")
    at = app_on(bundled_data, monkeypatch).run()
    assert "generative" in " ".join(c.value for c in at.sidebar.caption)

    at = ask(at, SEED_QUESTION)

    [turn] = assistant_turns(at)
    assert turn.warning, "the LLM failure must be shown as a warning"
    assert turn.markdown[0].value.startswith("Anthropic")  # the offline answer stands in
    assert any("nd-source" in h.value for h in turn.get("html"))
    assert not at.error
    assert "fallback" in " ".join(c.value for c in turn.caption)
    assert "sk-page-test-0a1b2c3d4e5f" not in page_text(at)


def test_article_html_and_script_are_shown_as_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "hostile"
    corpus.mkdir()
    article = {
        "id": "hostile-1",
        "title": "Harbour <img src=x onerror=alert('title')> <b>reopens</b>",
        "url": "https://news.example/harbour?a=1&b=<2>",
        "source": "Example <i>Wire</i>",
        "published_at": "2022-07-01",
        "text": "The harbour at Porthleven reopened on Friday <script>alert('xss')</script> after repairs costing "
        "$4 million <img src=x onerror=alert(1)> and *two* [weeks](javascript:alert(2)) of work.\n\n"
        "Fishing boats returned the same evening.",
    }
    (corpus / "hostile.jsonl").write_text(json.dumps(article) + "\n", "utf-8")
    data_dir = tmp_path / "data-hostile"
    ingest_into(data_dir, corpus)
    at = ask(app_on(data_dir, monkeypatch).run(), "When did the harbour at Porthleven reopen?")

    [turn] = assistant_turns(at)
    html_blocks = [h.value for h in turn.get("html")]
    card = next(h for h in html_blocks if "nd-source" in h)
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in card
    assert "&lt;img src=x onerror=alert(1)&gt;" in card
    assert "&lt;b&gt;reopens&lt;/b&gt;" in card  # the title, escaped
    assert 'href="https://news.example/harbour?a=1&amp;b=&lt;2&gt;"' in card
    for block in html_blocks:
        assert "<script" not in block and "<img" not in block and "<b>" not in block and "<i>" not in block
    answer_md = turn.markdown[0].value
    assert "\\<script\\>" in answer_md  # escaped for markdown: shown, not run
    assert "<script" not in answer_md.replace("\\<script", "")
    assert "\\<img src\\=x onerror\\=alert\\(1\\)\\>" in answer_md
    assert "\\$4" in answer_md and "\\*two\\*" in answer_md  # no maths, no emphasis
    assert "\\[weeks\\]\\(javascript\\:" in answer_md  # no link


KEY = "sk-page-test-77aa88bb99cc"


def test_a_generative_answer_streams_in_with_its_sources(bundled_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.servers.openai_stub import Scenario, running_stub
    from tests.ui.test_verification_mark import _marker

    n = _marker(bundled_data)  # the passage that holds the lobbying sentence, wherever retrieval ranks it
    with running_stub() as stub:
        stub.script(Scenario(text=f"Anthropic is lobbying the White House to ease export controls [{n}].", pieces=5))
        monkeypatch.setenv("NEWSDESK_OPENAI_BASE_URL", stub.url)
        monkeypatch.setenv("NEWSDESK_OPENAI_API_KEY", KEY)
        monkeypatch.setenv("NEWSDESK_LLM_TIMEOUT", "5")
        at = ask(app_on(bundled_data, monkeypatch).run(), SEED_QUESTION)

    [turn] = assistant_turns(at)
    assert turn.markdown[0].value.startswith("Anthropic is lobbying the White House")
    assert not turn.warning and not at.error
    [card] = [h.value for h in turn.get("html") if "nd-source" in h.value]
    assert "<mark" in card and "lobbying" in card
    assert "generative" in " ".join(c.value for c in turn.caption)
    assert stub.chat_requests, "the page must have asked the model"


def test_a_rejected_key_is_a_warning_that_never_shows_the_key(
    bundled_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.servers.openai_stub import Scenario, running_stub

    with running_stub() as stub:
        stub.script(Scenario(kind="status", status=401))  # its error body echoes the key back
        monkeypatch.setenv("NEWSDESK_OPENAI_BASE_URL", stub.url)
        monkeypatch.setenv("NEWSDESK_OPENAI_API_KEY", KEY)
        monkeypatch.setenv("NEWSDESK_LLM_TIMEOUT", "5")
        at = ask(app_on(bundled_data, monkeypatch).run(), SEED_QUESTION)

    [turn] = assistant_turns(at)
    assert turn.warning
    assert turn.markdown[0].value.startswith("Anthropic")  # the offline answer stands in
    assert KEY not in page_text(at)
    assert KEY not in str(at.session_state["turns"])


def test_a_question_without_words_gets_a_hint_not_an_error(bundled_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = ask(app_on(bundled_data, monkeypatch).run(), "?!?")

    [turn] = assistant_turns(at)
    assert "ask it in words" in turn.info[0].value
    assert not at.error


def test_a_store_built_with_other_settings_is_a_clear_error_with_the_fix(
    bundled_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSDESK_CHUNK_TOKENS", "100")  # the store was built with the default 200
    at = app_on(bundled_data, monkeypatch).run()

    assert not at.exception
    assert "newsdesk ingest --rebuild" in at.error[0].value
    assert not at.chat_input  # the page stops rather than answer from a mismatched index


@pytest.mark.parametrize(
    ("fault", "cue"),
    [("http-429", "HTTP 429"), ("http-500", "HTTP 500"), ("broken-stream", "broke off"),
     ("slow-past-timeout", "did not answer within 2 s")],
)
def test_an_llm_fault_on_the_page_falls_back_with_a_warning(
    fault: str, cue: str, bundled_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.servers.openai_stub import Scenario, running_stub

    scenarios = {
        "http-429": Scenario(kind="status", status=429, retry_after="0"),
        "http-500": Scenario(kind="status", status=500),
        "broken-stream": Scenario(kind="break", text="Anthropic is lobbying the White House [1].", break_after=2),
        "slow-past-timeout": Scenario(kind="hang", hang_seconds=60),
    }
    with running_stub() as stub:
        stub.script(scenarios[fault])
        monkeypatch.setenv("NEWSDESK_OPENAI_BASE_URL", stub.url)
        monkeypatch.setenv("NEWSDESK_OPENAI_API_KEY", KEY)
        monkeypatch.setenv("NEWSDESK_LLM_TIMEOUT", "2")
        monkeypatch.setenv("NEWSDESK_LLM_MAX_RETRIES", "0")
        at = ask(app_on(bundled_data, monkeypatch).run(), SEED_QUESTION)
        assert stub.chat_requests, "the page must have asked the model"

    [turn] = assistant_turns(at)
    assert [w.value for w in turn.warning] and cue in turn.warning[0].value
    assert turn.markdown[0].value.startswith("Anthropic\\, the San Francisco")  # the offline answer, not the torso
    assert any("nd-source" in h.value for h in turn.get("html"))
    assert not at.error
    assert "extractive-fallback" in " ".join(c.value for c in turn.caption)
    assert KEY not in page_text(at)
