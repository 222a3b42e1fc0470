"""The API's pure parts and `newsdesk serve`'s refusals, without starting a server."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.indexer import IngestReport
from ingest.jobs import JobQueue
from rag.errors import InputError
from rag.settings import Settings
from tests.servers.ports import free_port
from ui.api_models import ChatMessage, ContentPart
from ui.api_openai import split_messages
from ui.cli import main

pytestmark = pytest.mark.unit


def _m(role: str, content: str) -> ChatMessage:
    return ChatMessage.model_validate({"role": role, "content": content})


def test_the_last_user_message_is_the_question_and_earlier_turns_the_history() -> None:
    question, history = split_messages([
        _m("system", "Be brief."), _m("assistant", "Hello! Ask me about the news."),
        _m("user", "Who lobbies?"), _m("assistant", "Anthropic [1]."),
        _m("user", "Since when?"), _m("user", "And why?"),
    ])
    assert question == "And why?"
    assert history == [("Who lobbies?", "Anthropic [1]."), ("Since when?", "")]


def test_text_parts_are_joined_and_other_parts_skipped() -> None:
    message = ChatMessage(role="user", content=[ContentPart(type="text", text="Who"),
                                                ContentPart(type="image_url"), ContentPart(type="text", text="won?")])
    assert split_messages([message]) == ("Who\nwon?", [])


@pytest.mark.parametrize("messages", [[], [_m("system", "x")], [_m("user", "Q"), _m("assistant", "A")]])
def test_a_conversation_not_ending_with_the_user_is_refused_with_the_fix(messages: list[ChatMessage]) -> None:
    with pytest.raises(InputError, match=re.escape('end `messages` with {"role": "user"')):
        split_messages(messages)


def test_serving_beyond_this_machine_without_a_key_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", str(free_port())]) == 1
    err = capsys.readouterr().err
    assert "NEWSDESK_API_KEY" in err and "127.0.0.1" in err


def test_a_busy_port_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    assert f"newsdesk serve --port {port + 1}" in capsys.readouterr().err


def test_an_error_after_streaming_began_is_an_openai_error_event_then_done() -> None:
    from ui.api import _events

    def pieces() -> Iterator[str]:
        yield "More text"
        raise InputError("The store went away: run `newsdesk ingest`.")

    ids = {"model": "newsdesk", "completion_id": "chatcmpl-1", "created": 0}
    events = [e["data"] for e in _events("First piece", pieces(), ids, "http://127.0.0.1:8600/", usage=False)]
    assert [json.loads(e)["choices"][0]["delta"] for e in events[:3]] == [
        {"role": "assistant", "content": ""}, {"content": "First piece"}, {"content": "More text"}]
    assert json.loads(events[3])["error"]["message"] == "The store went away: run `newsdesk ingest`."
    assert events[4:] == ["[DONE]"]


class _SlowIngest:
    """An in-memory service whose ingest holds until released: what a long job looks like to the routes."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.deleted: list[str] = []

    def ingest(self, paths: Any, **_: Any) -> IngestReport:
        assert self.release.wait(30)
        return IngestReport(added=1)

    def delete(self, ids: Any) -> int:
        self.deleted += list(ids)
        return len(ids)


def test_a_delete_while_a_job_writes_is_409_and_the_job_still_finishes(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from ui.api import create_app

    service = _SlowIngest()
    with TestClient(create_app(service, Settings(data_dir=tmp_path / "data"))) as http:  # type: ignore[arg-type]
        job = http.post("/v1/articles", content=b'{"id": "a", "text": "x"}',
                        headers={"content-type": "application/x-ndjson"})
        while http.get(f"/v1/jobs/{job.json()['id']}").json()["status"] != "running":
            time.sleep(0.01)
        busy = http.delete("/v1/articles/b")
        assert busy.status_code == 409 and "GET /v1/jobs/" in busy.json()["error"]["message"]
        assert service.deleted == []
        service.release.set()
        while (done := http.get(f"/v1/jobs/{job.json()['id']}").json())["status"] == "running":
            time.sleep(0.01)
        assert done["status"] == "done" and done["report"]["added"] == 1
        assert http.delete("/v1/articles/b").json() == {"id": "b", "deleted": True}
    [row] = JobQueue(tmp_path / "data").jobs()  # the queue the page reads: it lists the API's job too
    assert row.id == job.json()["id"] and row.state == "done"
    assert [Path(p).parent for p in row.paths] == [tmp_path / "data" / "uploads"]  # kept for a resume, as the page's
