"""The page marks a generated sentence the sources do not support, and only that one (AppTest, the scripted
OpenAI-compatible server, the real verifier over the bundled article)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.pipeline import build_pipeline
from rag.settings import Settings
from rag.store import forget_clients
from tests.servers.openai_stub import Scenario, running_stub
from tests.ui.conftest import SEED_QUESTION, app_on, ask
from ui.render import NOT_FOUND, escape_markdown

pytestmark = pytest.mark.integration

KEY = "sk-page-verify-1a2b3c4d5e6f"
FAITHFUL = "Anthropic is lobbying the Trump White House to ease export controls on its Claude AI model"
INVENTED = "Anthropic paid a $40 million fine to the Commerce Department"


def _marker(data_dir: Path) -> int:
    """The [n] of the passage the faithful sentence restates, as the page will retrieve them."""
    passages = build_pipeline(Settings(data_dir=data_dir)).retrieve(SEED_QUESTION)
    forget_clients()
    return next(n for n, p in enumerate(passages, start=1) if "actively lobbying the Trump White House" in p.chunk.text)


def _on_page(text: str) -> str:
    """``text`` as the page shows it: escaped, its marker (passage n, renumbered per article) linking to its card."""
    return escape_markdown(text).replace("\\[1\\]", "[\\[1\\]](#nd-src-0-1)")


@pytest.mark.parametrize("verify", ["flag", "drop"])
def test_only_the_invented_sentence_is_marked_not_found(
    bundled_data: Path, monkeypatch: pytest.MonkeyPatch, verify: str
) -> None:
    n = _marker(bundled_data)
    text = f"{FAITHFUL} [{n}]. {INVENTED} [{n}]."
    with running_stub() as stub:
        stub.script(Scenario(text=text, pieces=5))
        monkeypatch.setenv("NEWSDESK_OPENAI_BASE_URL", stub.url)
        monkeypatch.setenv("NEWSDESK_OPENAI_API_KEY", KEY)
        monkeypatch.setenv("NEWSDESK_LLM_TIMEOUT", "10")
        monkeypatch.setenv("NEWSDESK_VERIFY", verify)
        at = ask(app_on(bundled_data, monkeypatch).run(), SEED_QUESTION)
        assert stub.chat_requests, "the page must have asked the model"

    [turn] = [m for m in at.chat_message if m.name == "assistant"]
    shown = turn.markdown[0].value
    answer = at.session_state["turns"][0].answer
    assert [c.verdict for c in answer.checks] == (["supported", "unsupported"] if verify == "flag" else ["supported"])
    if verify == "drop":  # dropped, so nothing is left to mark
        assert NOT_FOUND not in shown and escape_markdown(INVENTED) not in shown
        assert shown == _on_page(f"{FAITHFUL} [1].")
        return
    assert shown.count(NOT_FOUND) == 1
    before, after = shown.split(NOT_FOUND)
    # the mark stands right after the invented sentence (and its marker), not after the faithful one
    assert before.rstrip().endswith(_on_page(f"{INVENTED} [1].") + " :orange-badge[:material/warning:")
    assert escape_markdown(FAITHFUL) in before and after == "]"
