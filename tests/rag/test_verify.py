"""The sentence verifier over real MiniLM vectors: faithful sentences pass, changed numbers and swapped names
do not, markers and refusals are handled, the policies do what NEWSDESK_VERIFY promises, and the offline
extractive answers (verbatim by construction) are verified sentence by sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.embedder import MiniLMEmbedder
from rag.pipeline import BUNDLED_CORPUS, Pipeline
from rag.records import REFUSAL, Chunk, Passage, SentenceCheck
from rag.verify import apply_policy, locate, verify
from tests.conftest import IngestPaths
from tests.samples import PORTS_TXT

pytestmark = pytest.mark.integration

ARTICLE = next(BUNDLED_CORPUS.glob("*.txt")).read_text("utf-8")
QUESTIONS = Path(__file__).resolve().parents[2] / "eval" / "questions" / "bundled.jsonl"


def _passage(text: str, article_id: str, paragraph: int) -> Passage:
    """The ``paragraph``-th paragraph of ``text`` as a chunk with its real article offsets."""
    body = text.split("\n\n")[paragraph]
    start = text.index(body)
    return Passage(Chunk(f"{article_id}-{paragraph}", article_id, paragraph, body, start, start + len(body),
                         title=f"Title of {article_id}"))


@pytest.fixture(scope="module")
def passages() -> list[Passage]:
    """[1] the Anthropic lobbying paragraph, [2] the Rotterdam port paragraph, [3] its labour paragraph."""
    return [_passage(ARTICLE, "anthropic", 0), _passage(PORTS_TXT, "ports", 1), _passage(PORTS_TXT, "ports", 2)]


def _one(text: str, passages: list[Passage], embedder: MiniLMEmbedder) -> SentenceCheck:
    checks = verify(text, passages, embedder)
    assert len(checks) == 1, checks
    return checks[0]


def test_a_faithful_paraphrase_is_supported_and_quotes_its_span(
    passages: list[Passage], embedder: MiniLMEmbedder
) -> None:
    check = _one("Anthropic dispatched a team to Washington this week, seeking relief from the export restrictions "
                 "[1].", passages, embedder)
    assert check.verdict == "supported"
    assert check.citation == 1 and check.article_id == "anthropic"
    assert "The company dispatched a team to Washington this week" in check.span
    assert ARTICLE[check.start : check.end] == check.span  # article offsets, not chunk offsets


def test_a_merge_of_two_sentences_is_supported(passages: list[Passage], embedder: MiniLMEmbedder) -> None:
    check = _one("Anthropic is lobbying the White House to ease export controls on Claude and dispatched a team to "
                 "Washington this week [1].", passages, embedder)
    assert check.verdict == "supported"
    assert "Claude AI model" in check.span and "dispatched a team" in check.span  # both sentences, one span


def test_a_changed_number_is_unsupported(passages: list[Passage], embedder: MiniLMEmbedder) -> None:
    faithful = _one("The Port of Rotterdam handled 15.3 million containers last year [2].", passages, embedder)
    changed = _one("The Port of Rotterdam handled 13.5 million containers last year [2].", passages, embedder)
    assert faithful.verdict == "supported"
    assert changed.verdict == "unsupported"
    assert changed.score < faithful.score - 0.3
    assert changed.span == "" and changed.citation is None


def test_a_swapped_name_is_unsupported(passages: list[Passage], embedder: MiniLMEmbedder) -> None:
    faithful = _one("Port chief executive Allard Castelein said congestion eased in the second half of the year "
                    "[3].", passages, embedder)
    swapped = _one("Port chief executive Hans Smits said congestion eased in the second half of the year [3].",
                   passages, embedder)
    assert faithful.verdict == "supported"
    assert swapped.verdict == "unsupported"


def test_a_sentence_without_citation_is_matched_against_all_passages(
    passages: list[Passage], embedder: MiniLMEmbedder
) -> None:
    check = _one("Dock workers' unions warned that automation would cost jobs.", passages, embedder)
    assert check.verdict == "supported"
    assert check.citation == 3  # found in the third passage although nothing pointed there
    invalid = _one("Dock workers' unions warned that automation would cost jobs [9].", passages, embedder)
    assert invalid.citation == 3  # a marker to no passage counts as no citation


def test_a_sentence_citing_the_wrong_passage_is_not_supported(
    passages: list[Passage], embedder: MiniLMEmbedder
) -> None:
    check = _one("Dock workers' unions warned that automation would cost jobs [1].", passages, embedder)
    assert check.verdict == "unsupported"


def test_markers_are_stripped_and_split_claims(passages: list[Passage], embedder: MiniLMEmbedder) -> None:
    text = ("The Port of Rotterdam handled 15.3 million containers last year [2] "
            "Anthropic is lobbying the White House to ease export controls [1].")
    checks = verify(text, passages, embedder)
    assert [c.sentence for c in checks] == [
        "The Port of Rotterdam handled 15.3 million containers last year",
        "Anthropic is lobbying the White House to ease export controls.",
    ]
    assert [c.citation for c in checks] == [2, 1]
    assert all("[" not in c.sentence for c in checks)


def test_the_refusal_and_empty_sentences_are_not_checked(passages: list[Passage], embedder: MiniLMEmbedder) -> None:
    assert verify(REFUSAL, passages, embedder) == ()
    assert verify("", passages, embedder) == ()
    checks = verify(f"{REFUSAL} The Port of Rotterdam handled 15.3 million containers last year [2].", passages,
                    embedder)
    assert len(checks) == 1 and checks[0].verdict == "supported"


MIXED = ("The Port of Rotterdam handled 15.3 million containers last year [2]. "
         "The port plans to double its capacity by 2030 [2]. "
         "Dock workers' unions called for talks with terminal operators [3].")


@pytest.fixture(scope="module")
def mixed_checks(passages: list[Passage], embedder: MiniLMEmbedder) -> tuple[SentenceCheck, ...]:
    checks = verify(MIXED, passages, embedder)
    assert [c.verdict == "unsupported" for c in checks] == [False, True, False], checks
    return checks


def test_policy_flag_keeps_everything(mixed_checks: tuple[SentenceCheck, ...]) -> None:
    assert apply_policy(MIXED, mixed_checks, "flag") == (MIXED, mixed_checks)
    marked = [(MIXED[lo:hi], check.verdict) for lo, hi, check in locate(MIXED, mixed_checks) if check]
    assert marked[1] == ("The port plans to double its capacity by 2030 [2].", "unsupported")


def test_policy_off_keeps_the_text_without_checks(mixed_checks: tuple[SentenceCheck, ...]) -> None:
    assert apply_policy(MIXED, mixed_checks, "off") == (MIXED, ())


def test_policy_drop_removes_the_unsupported_sentence_and_its_marker(mixed_checks: tuple[SentenceCheck, ...]) -> None:
    text, kept = apply_policy(MIXED, mixed_checks, "drop")
    assert text == ("The Port of Rotterdam handled 15.3 million containers last year [2]. "
                    "Dock workers' unions called for talks with terminal operators [3].")
    assert kept == (mixed_checks[0], mixed_checks[2])


def test_policy_drop_with_nothing_left_refuses(passages: list[Passage], embedder: MiniLMEmbedder) -> None:
    text = "The port plans to double its capacity by 2030 [2]. Its new chief is Maria Jansen [3]."
    checks = verify(text, passages, embedder)
    assert [c.verdict for c in checks] == ["unsupported", "unsupported"]
    assert apply_policy(text, checks, "drop") == (REFUSAL, ())


@pytest.mark.slow
def test_offline_extractive_answers_are_verified_supported(pipeline: Pipeline, ingest_paths: IngestPaths) -> None:
    ingest_paths(BUNDLED_CORPUS)
    questions = [json.loads(line) for line in QUESTIONS.read_text("utf-8").splitlines() if line.strip()]
    answered = 0
    for q in (q for q in questions if q.get("answerable", True)):
        answer = pipeline.answer(q["question"])
        if answer.refused:
            continue
        answered += 1
        checks = verify(answer.text, list(answer.passages), pipeline.embedder)
        assert checks, answer.text
        assert [c.verdict for c in checks] == ["supported"] * len(checks), (answer.text, checks)
        article = pipeline.store.get_article(checks[0].article_id)
        assert article is not None and article.text[checks[0].start : checks[0].end] == checks[0].span
    assert answered >= 20  # the bundled set is answerable offline; refusing most would hide a broken check
