"""Verification end to end: the scripted OpenAI-compatible server writes an answer with one faithful and one
invented sentence about the ingested bundled article, and NEWSDESK_VERIFY decides what the Answer, `newsdesk
ask --json` and `newsdesk ask` make of it (real embedder, real Chroma, real HTTP, real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from rag.embedder import MiniLMEmbedder
from rag.pipeline import BUNDLED_CORPUS, Pipeline, build_pipeline
from rag.records import REFUSAL, Answer, Passage
from rag.settings import Settings
from tests.servers.openai_stub import MODEL, OpenAIStub, Scenario, running_stub

pytestmark = pytest.mark.integration

KEY = "sk-verify-test-5e6f7a8b9c0d"
QUESTION = "Why is Anthropic lobbying the White House?"
FAITHFUL = ("Anthropic is lobbying the Trump White House to ease export controls that have suspended access to "
            "its Claude AI model in several foreign markets")
INVENTED = "Anthropic paid a $40 million fine to the Commerce Department"
SECOND_INVENTION = "The Commerce Department lifted the ban on Claude in March 2021"
FAITHFUL_SOURCE = "is actively lobbying the Trump White House"  # where FAITHFUL comes from in the article


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with running_stub() as server:
        yield server


@pytest.fixture
def make_pipeline(bundled_store: Path, stub: OpenAIStub, embedder: MiniLMEmbedder) -> Any:
    """``make_pipeline(verify)`` → a generative pipeline on the bundled store, answering through the stub."""
    def make(verify: str) -> Pipeline:
        return build_pipeline(Settings(
            data_dir=bundled_store, openai_base_url=stub.url, openai_api_key=SecretStr(KEY), openai_model=MODEL,
            llm_timeout=10.0, verify=verify,
        ), embedder=embedder)

    return make


def _ingested_text(article_id: str) -> str:
    """The article's text as ingested (its front matter is metadata, not text): what citation offsets index."""
    from ingest.sources import read_paths
    from rag.records import Article

    return next(a.text for a in read_paths([BUNDLED_CORPUS]) if isinstance(a, Article) and a.id == article_id)


def markers(passages: list[Passage]) -> tuple[int, int]:
    """(n of the passage FAITHFUL restates, n of the other one): the invented sentence cites the other, so
    dropping it must also drop a citation."""
    assert len(passages) == 2, "the bundled article is two chunks"
    faithful = next(n for n, p in enumerate(passages, start=1) if FAITHFUL_SOURCE in p.chunk.text)
    return faithful, 3 - faithful


@pytest.fixture
def answer_text(make_pipeline: Any) -> str:
    """The scripted model answer: FAITHFUL citing its passage, then INVENTED citing the other passage."""
    good, other = markers(make_pipeline("off").retrieve(QUESTION))
    return f"{FAITHFUL} [{good}]. {INVENTED} [{other}]."


def ask(make_pipeline: Any, stub: OpenAIStub, verify: str, text: str) -> Answer:
    stub.script(Scenario(text=text, pieces=6))
    answer = make_pipeline(verify).answer(QUESTION)
    assert len(stub.chat_requests) == 1 and answer.mode == "generative", answer.warnings
    return answer


def test_flag_keeps_both_sentences_and_marks_only_the_invented_one(
    make_pipeline: Any, stub: OpenAIStub, answer_text: str
) -> None:
    answer = ask(make_pipeline, stub, "flag", answer_text)

    assert answer.text == answer_text and not answer.refused
    assert [(c.sentence, c.verdict) for c in answer.checks] == [
        (f"{FAITHFUL}.", "supported"), (f"{INVENTED}.", "unsupported"),
    ]
    supported, invented = answer.checks
    assert FAITHFUL_SOURCE in supported.span  # the span it rests on, by article offsets
    article = _ingested_text(supported.article_id)
    assert article[supported.start : supported.end] == supported.span
    good, other = markers(list(answer.passages))
    assert supported.citation == good
    assert invented.span == "" and invented.citation is None and invented.score < supported.score
    assert {c.n for c in answer.citations} == {good, other}  # flag changes nothing in the text
    assert answer.timings_ms["verify"] > 0


def test_drop_removes_the_invented_sentence_and_its_citation(
    make_pipeline: Any, stub: OpenAIStub, answer_text: str
) -> None:
    answer = ask(make_pipeline, stub, "drop", answer_text)

    good, _ = markers(list(answer.passages))
    assert answer.text == f"{FAITHFUL} [{good}]."
    assert "Commerce" not in answer.text and not answer.refused
    assert [c.verdict for c in answer.checks] == ["supported"]
    assert [c.n for c in answer.citations] == [good]
    assert FAITHFUL_SOURCE in answer.citations[0].quote


def test_a_supported_sentence_without_a_marker_is_cited_with_the_span_it_rests_on(
    make_pipeline: Any, stub: OpenAIStub
) -> None:
    answer = ask(make_pipeline, stub, "flag", f"{FAITHFUL}.")

    good, _ = markers(list(answer.passages))
    assert answer.text == f"{FAITHFUL}. [{good}]"
    [check] = answer.checks
    assert check.verdict == "supported" and check.citation == good
    [cited] = answer.citations
    assert (cited.n, cited.quote, cited.start, cited.end) == (good, check.span, check.start, check.end)
    article = _ingested_text(cited.article_id)
    assert article[cited.start : cited.end] == cited.quote


def test_off_checks_nothing(make_pipeline: Any, stub: OpenAIStub, answer_text: str) -> None:
    answer = ask(make_pipeline, stub, "off", answer_text)

    assert answer.text == answer_text
    assert answer.checks == () and "verify" not in answer.timings_ms
    assert len(answer.citations) == 2


def test_drop_refuses_when_every_sentence_is_invented(make_pipeline: Any, stub: OpenAIStub) -> None:
    answer = ask(make_pipeline, stub, "drop", f"{INVENTED} [1]. {SECOND_INVENTION} [2].")

    assert answer.refused and answer.text == REFUSAL
    assert answer.checks == () and answer.citations == ()
    assert answer.passages  # the evidence is still there to show


def test_flag_marks_every_invented_sentence(make_pipeline: Any, stub: OpenAIStub) -> None:
    answer = ask(make_pipeline, stub, "flag", f"{INVENTED} [1]. {SECOND_INVENTION} [2].")

    assert not answer.refused
    assert [c.verdict for c in answer.checks] == ["unsupported", "unsupported"]


def newsdesk(data_dir: Path, stub: OpenAIStub, verify: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), "NEWSDESK_OPENAI_BASE_URL": stub.url,
           "NEWSDESK_OPENAI_API_KEY": KEY, "NEWSDESK_OPENAI_MODEL": MODEL, "NEWSDESK_LLM_TIMEOUT": "10",
           "NEWSDESK_VERIFY": verify}
    done = subprocess.run([sys.executable, "-m", "ui", *args], capture_output=True, text=True, timeout=300,
                          env=env, check=False)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
def test_ask_json_carries_the_verdicts(bundled_store: Path, stub: OpenAIStub, answer_text: str) -> None:
    stub.script(Scenario(text=answer_text))
    done = newsdesk(bundled_store, stub, "flag", "ask", "--json", QUESTION)

    data = json.loads(done.stdout)
    assert data["mode"] == "generative" and data["answer"] == answer_text
    assert [(c["sentence"], c["verdict"]) for c in data["checks"]] == [
        (f"{FAITHFUL}.", "supported"), (f"{INVENTED}.", "unsupported"),
    ]
    supported = data["checks"][0]
    assert FAITHFUL_SOURCE in supported["span"] and supported["citation"] in {1, 2}
    assert supported["article_id"] == "000_78dbcec5bdb2f3cc.txt" and 0 <= supported["start"] < supported["end"]
    assert data["checks"][1]["span"] == "" and data["checks"][1]["citation"] is None
    assert "verify" in data["timings_ms"]


@pytest.mark.slow
def test_ask_prints_the_invented_sentence_as_not_found(bundled_store: Path, stub: OpenAIStub, answer_text: str) -> None:
    stub.script(Scenario(text=answer_text))
    flagged = newsdesk(bundled_store, stub, "flag", "ask", QUESTION).stdout

    assert f"⚠ not found in the sources: {INVENTED}." in flagged
    assert f"not found in the sources: {FAITHFUL}" not in flagged
    assert "After checking the sources:" not in flagged  # flag keeps the answer as streamed

    stub.script(Scenario(text=answer_text))
    dropped = newsdesk(bundled_store, stub, "drop", "ask", QUESTION).stdout
    streamed, kept = dropped.split("After checking the sources:")
    assert INVENTED in streamed  # it streamed before it could be checked...
    assert FAITHFUL in kept and INVENTED not in kept.split("Sources:")[0]  # ...and the kept answer has it gone
