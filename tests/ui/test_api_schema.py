"""schemathesis over the API's own OpenAPI schema, against a live server: generated requests to every route
(valid and invalid) get no 5xx, and every response matches what the schema says (status, type, body).

Its own server and store: generated uploads add junk articles, which the other API tests must not see.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rag.pipeline import BUNDLED_CORPUS
from tests.servers.api_server import ApiServer, running_api
from tests.ui.conftest import _forget_chroma_clients, ingest_into

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "schema-test-key"
EXAMPLES = 8  # per route and mode: the whole test runs in about 20 s
ROUTES = {"GET /healthz", "GET /v1/models", "POST /v1/chat/completions", "POST /v1/ask", "GET /v1/status",
          "GET /v1/articles", "POST /v1/articles", "GET /v1/articles/{article_id}", "DELETE /v1/articles/{article_id}",
          "GET /v1/jobs", "GET /v1/jobs/{job_id}"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    data_dir = tmp_path_factory.mktemp("api-schema") / "data"
    ingest_into(data_dir, BUNDLED_CORPUS)
    _forget_chroma_clients()
    with running_api(data_dir, data_dir.parent / "home", NEWSDESK_API_KEY=KEY) as server:
        yield server


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_every_route_answers_within_its_schema(live: ApiServer, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {o.label for o in operations} == ROUTES

    statuses: list[int] = []
    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
            statuses.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        try:
            call()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # a route with no input (GET /healthz) cannot be sent invalid
        except Exception as exc:  # one operation's failure must not hide the others'
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    if mode is GenerationMode.POSITIVE:  # (invalid requests include a mangled Authorization header)
        assert 401 not in statuses  # the key went with every request: the routes themselves were exercised
    assert any(200 <= s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses), sorted(set(statuses))


def test_a_streamed_answer_matches_its_event_schema(live: ApiServer) -> None:
    # The generated requests above reach a streamed 200 only by chance; this one always does.
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    operation = schema["/v1/chat/completions"]["POST"]
    body = {"model": "newsdesk", "stream": True, "messages": [{"role": "user", "content": "What is Claude?"}]}
    case = operation.Case(body=body, media_type="application/json")
    response = case.call(headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    assert response.status_code == 200 and "text/event-stream" in str(response.headers["content-type"])
    assert response.text.rstrip().endswith("data: [DONE]")
    case.validate_response(response, checks=CHECKS)
