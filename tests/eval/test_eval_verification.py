"""`newsdesk eval` in generative mode counts what the verifier found: the scripted OpenAI-compatible server
answers each question with faithful sentences and, for some, an invented one, and the report's
`grounded_sentences` / `unsupported_sentences` (and every row's verdicts) must match what was injected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.pipeline import build_pipeline
from rag.records import REFUSAL
from rag.settings import Settings
from rag.store import forget_clients
from tests.servers.openai_stub import MODEL, Scenario, running_stub

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUNDLED = Path(__file__).resolve().parents[2] / "eval" / "questions" / "bundled.jsonl"
KEY = "sk-eval-verify-0f1e2d3c4b5a"

# question id → (the article words that locate the passage to cite, faithful sentence, invented sentence or "")
SCRIPT = {
    "bundled-a01": ("San Francisco-based", "Anthropic is a San Francisco-based artificial intelligence company", ""),
    "bundled-a06": ("dispatched a team",
                    "Anthropic dispatched a team to Washington this week seeking relief from the restrictions",
                    "The team was led by Anthropic's chief executive Dario Amodei"),
    "bundled-a12": ("investment from Amazon",
                    "Anthropic has accepted substantial investment from Amazon and sought close ties with the "
                    "U.S. government", "Amazon invested $4 billion in Anthropic in 2023"),
    "bundled-a15": ("politically delicate", "The lobbying effort puts Anthropic in a politically delicate position",
                    ""),
    "bundled-a20": ("The Hill and Axios", "The Hill and Axios reported on the regulatory standoff",
                    "The Wall Street Journal also reported that the talks collapsed on Friday"),
    "bundled-a23": ("The BBC separately",
                    "The BBC noted the story's significance for ongoing U.S.-China technology competition", ""),
    "bundled-u01": ("", "", ""),  # the model refuses: nothing to check
}


def test_eval_reports_the_injected_unsupported_sentences(bundled_store: Path, tmp_path: Path) -> None:
    lines = {json.loads(line)["id"]: line for line in BUNDLED.read_text("utf-8").splitlines() if line.strip()}
    questions = tmp_path / "questions.jsonl"
    questions.write_text("\n".join(lines[i] for i in SCRIPT) + "\n", "utf-8")
    pipeline = build_pipeline(Settings(data_dir=bundled_store))  # to cite the passage the eval will retrieve
    scenarios, expected = [], {}
    for qid, (needle, faithful, invented) in SCRIPT.items():
        if not faithful:
            scenarios.append(Scenario(text=REFUSAL))
            expected[qid] = []
            continue
        passages = pipeline.retrieve(json.loads(lines[qid])["question"])
        n = next(i for i, p in enumerate(passages, start=1) if needle in p.chunk.text)
        text = f"{faithful} [{n}]." + (f" {invented} [{n}]." if invented else "")
        scenarios.append(Scenario(text=text))
        expected[qid] = ["supported", "unsupported"] if invented else ["supported"]
    forget_clients()

    with running_stub() as stub:
        stub.script(*scenarios)  # one chat request per question, in file order (no history, no retries)
        env = {**os.environ, "NEWSDESK_DATA_DIR": str(bundled_store), "NEWSDESK_OPENAI_BASE_URL": stub.url,
               "NEWSDESK_OPENAI_API_KEY": KEY, "NEWSDESK_OPENAI_MODEL": MODEL, "NEWSDESK_LLM_TIMEOUT": "10",
               "NEWSDESK_VERIFY": "flag"}
        done = subprocess.run(
            [sys.executable, "-m", "ui", "eval", "--questions", str(questions), "--json", "--quiet",
             "--report", str(tmp_path / "report")],
            capture_output=True, text=True, timeout=600, env=env, check=False,
        )
        asked = [r.content("user") for r in stub.chat_requests]
    assert done.returncode == 0, done.stderr
    assert len(asked) == len(SCRIPT)
    for qid, prompt in zip(SCRIPT, asked, strict=True):  # each scripted answer went to its own question
        assert json.loads(lines[qid])["question"] in prompt

    summary = json.loads(done.stdout)
    rows = {r["id"]: r for r in json.loads((tmp_path / "report" / "report.json").read_text("utf-8"))["rows"]}
    assert {qid: rows[qid]["verdicts"] for qid in SCRIPT} == expected
    assert all(r["mode"] == "generative" for r in rows.values())
    checked = sum(len(v) for v in expected.values())
    injected = sum(bool(invented) for _, _, invented in SCRIPT.values())
    assert (checked, injected) == (9, 3)
    assert summary["n_checked_sentences"] == checked
    assert summary["unsupported_sentences"] == round(injected / checked, 4) > 0
    assert summary["grounded_sentences"] == round((checked - injected) / checked, 4)
    assert summary["answer_accuracy"] == 1.0 and summary["refusal_accuracy"] == 1.0
    assert rows["bundled-u01"]["refused"]
    assert "talks collapsed on Friday" in rows["bundled-a20"]["answer"]  # flag marks it but keeps it
    report_md = (tmp_path / "report" / "report.md").read_text("utf-8")
    assert "| unsupported sentences | 33.3% |" in report_md and "| grounded sentences | 66.7% |" in report_md
