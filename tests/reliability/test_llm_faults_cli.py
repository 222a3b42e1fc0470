"""`newsdesk ask` as a user runs it, with the model endpoint down, too slow, rate-limited, failing, breaking off
mid-stream or refusing the key: each run ends within the timeout (plus process start), exits 0, says on stderr
what went wrong and what to do, still prints the offline answer with its sources, and never shows the key.

The same faults on the page are `tests/ui/test_app.py` (dead endpoint, rejected key, and the parametrized
`test_an_llm_fault_on_the_page_falls_back_with_a_warning`); the answerer's own contract is
`tests/generative/test_faults.py`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.reliability.conftest import FAKE_KEY, SEED_QUESTION, SEED_QUOTE, newsdesk, no_traceback
from tests.servers.openai_stub import OpenAIStub, Scenario, running_stub
from tests.servers.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TIMEOUT, RETRIES = 2, 1
# One overall deadline covers the retries; the rest is starting Python, Chroma and the ONNX model on a busy
# 2-core machine. A hang without the deadline would take HANG seconds, far past this.
BOUND = TIMEOUT * (RETRIES + 1) + 30
HANG = 300

FAULTS = {
    "down": (None, "Could not reach"),
    "slow-past-timeout": (Scenario(kind="hang", hang_seconds=HANG), f"did not answer within {TIMEOUT} s"),
    "http-429": (Scenario(kind="status", status=429, retry_after="0"), "429"),
    "http-500": (Scenario(kind="status", status=500), "HTTP 500"),
    "broken-stream": (Scenario(kind="break", text="Anthropic is lobbying the White House [1].", break_after=2),
                      "broke off"),
    "invalid-key": (Scenario(kind="status", status=401), "Invalid API key"),
}
FALLBACK = "Showing the best sentences from the articles instead."


@pytest.fixture(scope="module")
def stub() -> object:
    with running_stub() as running:
        yield running


@pytest.mark.parametrize("fault", list(FAULTS))
def test_ask_survives_an_llm_fault_with_a_warning_and_the_offline_answer(
    fault: str, bundled_store: Path, stub: OpenAIStub, tmp_path: Path
) -> None:
    scenario, cue = FAULTS[fault]
    if scenario is None:
        url = f"http://127.0.0.1:{free_port()}/v1"
    else:
        stub.script(scenario)
        url = stub.url
    env = {
        "NEWSDESK_DATA_DIR": str(bundled_store), "NEWSDESK_OPENAI_BASE_URL": url, "NEWSDESK_OPENAI_API_KEY": FAKE_KEY,
        "NEWSDESK_LLM_TIMEOUT": str(TIMEOUT), "NEWSDESK_LLM_MAX_RETRIES": str(RETRIES),
    }
    run = newsdesk("ask", SEED_QUESTION, cwd=tmp_path, env=env, timeout=HANG / 2)
    print(f"\n{fault}: {run.seconds:.1f}s, rc {run.returncode}")

    assert run.returncode == 0, run.stderr
    assert run.seconds < BOUND
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and cue in warnings[0] and FALLBACK in warnings[0], run.stderr
    assert "Anthropic, the San Francisco-based" in run.stdout  # the extractive answer, verbatim
    # [n] is the passage number, and which of the article's passages ranks first depends on its indexed headline.
    assert re.search(r"\nSources:\n\[\d\] ", run.stdout) and SEED_QUOTE in run.stdout
    no_traceback(run)
    assert FAKE_KEY not in run.output
    if scenario is not None:
        assert stub.chat_requests, "the model was never asked: the fault was not exercised"
        # The key did travel to the server, as it must; it just never comes back to the user.
        assert stub.chat_requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
