"""`newsdesk serve` over real HTTP: the official OpenAI client, a real uvicorn server, the real store.

One server (with an API key) over the bundled corpus serves the module; tests that add articles add their own
and remove them again, so the seed question's evidence never changes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from rag.pipeline import BUNDLED_CORPUS
from tests.samples import COUNCIL_MD, PORTS_TXT
from tests.servers.api_server import ApiServer, running_api
from tests.servers.openai_stub import MODEL, Scenario, running_stub
from tests.ui.conftest import SEED_QUESTION, _forget_chroma_clients, ingest_into
from ui.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "test-api-key-not-a-secret"
SEED_ARTICLE = "000_78dbcec5bdb2f3cc.txt"
SEED_QUOTE = "is actively lobbying the Trump White House to ease export controls"


@pytest.fixture(scope="module")
def api_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("api") / "data"
    ingest_into(data_dir, BUNDLED_CORPUS)
    _forget_chroma_clients()
    return data_dir


@pytest.fixture(scope="module")
def server(api_data: Path) -> Iterator[ApiServer]:
    with running_api(api_data, api_data.parent / "home", NEWSDESK_API_KEY=KEY) as running:
        yield running


@pytest.fixture
def client(server: ApiServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.v1, api_key=KEY, max_retries=0, timeout=60)


@pytest.fixture
def http(server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as session:
        yield session


def _seed(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.chat.completions.create(
        model="newsdesk", messages=[{"role": "user", "content": SEED_QUESTION}], **kwargs
    )


def _wait_done(http: httpx.Client, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = http.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in {"done", "failed", "stopped"}:
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not finished after {timeout:.0f}s: {job}")


def test_the_models_are_the_collections(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["newsdesk"]


def test_a_completion_keeps_its_markers_and_carries_verbatim_citations(
    client: openai.OpenAI, http: httpx.Client, server: ApiServer
) -> None:
    completion = _seed(client)
    text = completion.choices[0].message.content or ""
    # Whichever passage number the lead passage gets: the bundled article's front matter indexes its headline.
    assert SEED_QUOTE in text and re.search(r"\[\d+\]", text)
    extra = completion.model_extra or {}
    assert extra["citations"][0] == f"{server.url}/v1/articles/{SEED_ARTICLE}"  # no web address: its API address
    records = extra["newsdesk"]["citations"]
    assert records and {r["n"] for r in records} <= set(range(1, len(extra["citations"]) + 1))
    article = http.get(f"/v1/articles/{SEED_ARTICLE}").json()
    for record in records:
        assert record["article_id"] == SEED_ARTICLE
        assert article["text"][record["start"] : record["end"]] == record["quote"]  # verbatim at its offsets
    assert extra["newsdesk"]["answer"] == text and extra["newsdesk"]["refused"] is False
    assert completion.usage is not None and completion.usage.completion_tokens > 0


def test_a_streamed_answer_ends_with_its_citations(client: openai.OpenAI) -> None:
    chunks = list(_seed(client, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == _seed(client).choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    extra = last.model_extra or {}
    assert extra["citations"] and extra["newsdesk"]["answer"] == text
    assert any(SEED_QUOTE in r["quote"] for r in extra["newsdesk"]["citations"])
    assert last.usage is not None and last.usage.total_tokens > 0
    assert not any((c.model_extra or {}).get("citations") for c in chunks[:-1])  # only the last chunk carries them


def test_the_raw_stream_is_openai_sse_ending_with_done(http: httpx.Client) -> None:
    body = {"model": "newsdesk", "stream": True, "messages": [{"role": "user", "content": SEED_QUESTION}]}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"} and len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}


def test_a_follow_up_reads_the_conversation_in_messages(client: openai.OpenAI) -> None:
    first = _seed(client).choices[0].message.content or ""
    follow_up = client.chat.completions.create(
        model="newsdesk",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},  # left out: newsdesk has its own rules
            {"role": "user", "content": SEED_QUESTION},
            {"role": "assistant", "content": first},
            {"role": "user", "content": "Who reported on it?"},
        ],
    )
    extra = follow_up.model_extra or {}
    assert "lobbying" in extra["newsdesk"]["standalone_question"]
    assert "reported on" in (follow_up.choices[0].message.content or "")


def test_options_travel_under_the_newsdesk_key(client: openai.OpenAI) -> None:
    narrowed = _seed(client, extra_body={"newsdesk": {"sources": ["no-such-source"]}})
    assert (narrowed.model_extra or {})["newsdesk"]["refused"] is True  # the filter reached retrieval
    with pytest.raises(openai.UnprocessableEntityError, match="since"):
        _seed(client, extra_body={"newsdesk": {"since": "last week"}})


def test_without_the_key_every_route_but_healthz_is_401(server: ApiServer) -> None:
    wrong = openai.OpenAI(base_url=server.v1, api_key="not-the-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="Authorization: Bearer"):
        _seed(wrong)
    for path in ("/v1/models", "/v1/status", "/v1/articles", f"/v1/articles/{SEED_ARTICLE}"):
        response = httpx.get(server.url + path)
        assert response.status_code == 401, path
        assert "NEWSDESK_API_KEY" in response.json()["error"]["message"]
        assert response.headers["www-authenticate"] == "Bearer"
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}


def test_ask_is_the_cli_json(
    http: httpx.Client, api_data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(api_data))
    assert main(["ask", SEED_QUESTION, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    api = http.post("/v1/ask", json={"question": SEED_QUESTION}).json()
    assert api.keys() == cli.keys()
    for field in ("question", "answer", "refused", "mode", "citations", "warnings", "standalone_question"):
        assert api[field] == cli[field], field
    assert [(p["article_id"], p["start"]) for p in api["passages"]] == [
        (p["article_id"], p["start"]) for p in cli["passages"]
    ]


def test_status_says_what_is_indexed(http: httpx.Client) -> None:
    status = http.get("/v1/status").json()
    assert status["collection"] == "newsdesk" and status["articles"] >= 1 and status["chunks"] >= 1


def test_an_upload_job_ingests_files_and_reports_what_it_rejected(http: httpx.Client) -> None:
    files = [("files", ("ports.txt", PORTS_TXT)), ("files", ("council.md", COUNCIL_MD)), ("files", ("empty.txt", ""))]
    response = http.post("/v1/articles", files=files)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/jobs/{response.json()['id']}"
    job = _wait_done(http, response.json()["id"])
    try:
        assert job["status"] == "done", job
        assert job["report"]["added"] == 2 and job["report"]["exit_code"] == 3
        assert [r["where"] for r in job["report"]["rejected"]] == ["empty.txt"]
        answer = http.post("/v1/ask", json={"question": "How many containers did the Port of Rotterdam handle?"})
        assert "15.3 million containers" in answer.json()["answer"]
        assert answer.json()["citations"][0]["article_id"] == "ports.txt"
    finally:
        for article_id in ("ports.txt", "council.md"):
            http.delete(f"/v1/articles/{article_id}")


def test_articles_come_a_page_at_a_time_by_id_with_the_total(http: httpx.Client) -> None:
    lines = [{"id": f"api-page-{c}", "title": f"Page {c}", "text": f"Ferry timetable {c} is out."} for c in "abc"]
    body = "\n".join(json.dumps(line) for line in lines)
    job = http.post("/v1/articles", content=body, headers={"content-type": "application/x-ndjson"}).json()
    assert _wait_done(http, job["id"])["report"]["added"] == 3
    try:
        everything = http.get("/v1/articles", params={"limit": 500}).json()
        ids = [a["id"] for a in everything["articles"]]
        assert len(ids) == everything["total"] >= 4 and ids == sorted(ids)
        page = http.get("/v1/articles", params={"offset": 1, "limit": 2}).json()
        assert page["total"] == len(ids) and [a["id"] for a in page["articles"]] == ids[1:3]
        assert "text" not in page["articles"][0] and page["articles"][0]["chars"] > 0
        past = http.get("/v1/articles", params={"offset": len(ids), "limit": 2}).json()
        assert past["articles"] == [] and past["total"] == len(ids)
    finally:
        for line in lines:
            http.delete(f"/v1/articles/{line['id']}")


def test_an_article_sent_as_jsonl_can_be_read_and_deleted(http: httpx.Client) -> None:
    line = {"id": "api-delete-me", "title": "Harbour crane", "text": "The harbour board approved a new crane."}
    response = http.post("/v1/articles", content=json.dumps(line), headers={"content-type": "application/x-ndjson"})
    assert _wait_done(http, response.json()["id"])["report"]["added"] == 1
    assert http.get("/v1/articles/api-delete-me").json()["text"] == line["text"]
    assert "api-delete-me" in [a["id"] for a in http.get("/v1/articles", params={"limit": 500}).json()["articles"]]
    assert http.delete("/v1/articles/api-delete-me").json() == {"id": "api-delete-me", "deleted": True}
    gone = http.get("/v1/articles/api-delete-me")
    assert gone.status_code == 404 and "GET /v1/articles" in gone.json()["error"]["message"]
    assert http.delete("/v1/articles/api-delete-me").status_code == 404
    answer = http.post("/v1/ask", json={"question": "What did the harbour board approve?"}).json()
    assert all(c["article_id"] != "api-delete-me" for c in answer["citations"])  # gone from retrieval too


def test_a_delete_while_another_process_ingests_is_409_with_the_fix(http: httpx.Client, api_data: Path) -> None:
    from ingest.indexer import ingest_lock

    with ingest_lock(api_data):  # what `newsdesk ingest` on the same data dir holds while it writes
        busy = http.delete(f"/v1/articles/{SEED_ARTICLE}")
    assert busy.status_code == 409, busy.text
    message = busy.json()["error"]["message"]
    assert "wait for it to finish" in message and "delete again" in message
    assert http.get(f"/v1/articles/{SEED_ARTICLE}").status_code == 200  # nothing was deleted


def test_errors_are_json_that_say_what_to_change(client: openai.OpenAI, http: httpx.Client) -> None:
    with pytest.raises(openai.NotFoundError, match="use 'newsdesk'"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": SEED_QUESTION}])
    with pytest.raises(openai.BadRequestError, match="last message must be the user's"):
        client.chat.completions.create(model="newsdesk", messages=[{"role": "assistant", "content": "Hi"}])
    too_big = http.post("/v1/ask", content=b'{"question": "' + b"a" * (2 * 2**20) + b'"}',
                        headers={"content-type": "application/json"})
    assert too_big.status_code == 413 and "1 MB" in too_big.json()["error"]["message"]
    chunked = http.post("/v1/ask", content=iter([b"x" * 2**19] * 3), headers={"content-type": "application/json"})
    assert chunked.status_code == 413  # no Content-Length: counted as it arrives
    big_file = http.post("/v1/articles", files=[("files", ("huge.txt", b"word " * (2**20 + 1)))])
    assert big_file.status_code == 413 and "at most 5 MB" in big_file.json()["error"]["message"]
    wrong_type = http.post("/v1/articles", files=[("files", ("photo.png", b"\x89PNG"))])
    assert wrong_type.status_code == 400 and ".jsonl" in wrong_type.json()["error"]["message"]
    missing = http.get("/v1/jobs/nope")
    assert missing.status_code == 404 and "POST /v1/articles" in missing.json()["error"]["message"]
    for response in (too_big, big_file, wrong_type, missing):
        assert "Traceback" not in response.text


def test_the_llm_key_is_never_echoed(tmp_path: Path, api_data: Path) -> None:
    secret = "sk-never-show-this-key-0123456789"
    with running_stub() as stub:
        stub.script(Scenario(kind="status", status=401))  # its error message repeats the key it was sent
        env = {"NEWSDESK_OPENAI_BASE_URL": stub.url, "NEWSDESK_OPENAI_API_KEY": secret,
               "NEWSDESK_OPENAI_MODEL": MODEL, "NEWSDESK_LLM_MAX_RETRIES": "0"}
        with running_api(api_data, tmp_path / "home", **env) as server, httpx.Client(base_url=server.url) as http:
            body = {"model": "newsdesk", "messages": [{"role": "user", "content": SEED_QUESTION}]}
            answered = http.post("/v1/chat/completions", json=body)
            streamed = http.post("/v1/chat/completions", json={**body, "stream": True})
            outputs = [answered.text, streamed.text, http.get("/v1/status").text, http.post("/v1/ask", json={
                "question": SEED_QUESTION}).text, http.get("/openapi.json").text]
            log = server.log_text()
    assert stub.chat_requests  # the model was asked, and failed
    assert answered.json()["newsdesk"]["mode"] == "extractive-fallback"
    assert SEED_QUOTE in answered.json()["choices"][0]["message"]["content"]
    for text in [*outputs, log]:
        assert secret not in text


def test_an_empty_store_says_how_to_fill_it_and_fills_through_the_api(tmp_path: Path) -> None:
    with running_api(tmp_path / "empty", tmp_path / "home") as server, httpx.Client(base_url=server.url) as http:
        client = openai.OpenAI(base_url=server.v1, api_key="anything", max_retries=0)
        with pytest.raises(openai.ConflictError, match="newsdesk ingest"):
            _seed(client)
        assert http.get("/v1/status").json()["articles"] == 0
        assert http.get("/v1/articles").json() == {"total": 0, "offset": 0, "limit": 50, "articles": []}
        job = http.post("/v1/articles", files=[("files", ("ports.txt", PORTS_TXT))]).json()
        assert _wait_done(http, job["id"])["report"]["added"] == 1
        answer = client.chat.completions.create(
            model="newsdesk", messages=[{"role": "user", "content": "How many containers did Rotterdam handle?"}]
        )
        assert "15.3 million containers" in (answer.choices[0].message.content or "")
        assert (answer.model_extra or {})["citations"] == [f"{server.url}/v1/articles/ports.txt"]
