"""One story, many outlets, end to end: grouped at ingest (ingest/story_index.py), kept across re-ingest and
deletes, and shown once among an answer's sources with "also reported by" (CLI, --json, API record, page card).
Real parts: Chroma on tmp_path, the real embedder, the service as the edges build it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from eval import stories as stories_eval
from ingest.service import Newsdesk, build_service
from rag.embedder import MiniLMEmbedder
from rag.errors import StoreError
from rag.numbering import number_by_article
from rag.records import Answer
from rag.settings import Settings
from tests.ingest.test_stories import STORY
from ui.answer_json import answer_json
from ui.api_openai import extra
from ui.chats import answer_from_json, answer_to_json
from ui.cli import main
from ui.sources import article_card

pytestmark = pytest.mark.integration

BRIDGE = STORY  # the council story of tests/ingest/test_stories.py: long enough to be shingled
PARKING = (
    "The city council voted on Tuesday to raise parking fees in the old town after a year of complaints about "
    "traffic, and said the money would pay for two new bus routes to the market. Drivers will pay twice as much "
    "for an hour near the river from next month, while residents keep their permits at the old price. Shop "
    "owners said they feared losing customers, but the mayor said buses would bring more people than cars ever "
    "did. The first new route is due to start in the autumn, once the council has hired eight more drivers."
)
HARBOUR = (
    "Fishing boats returned to the harbour on Wednesday after a storm kept them in port for four days. The "
    "harbour master said the sea wall had held, although two jetties lost planks and one crane was bent by the "
    "wind. Fish prices at the morning market rose by a third while the boats were away, traders said, and "
    "restaurants took squid and mussels off their menus until the catch came in again."
)
TIMES = "https://rivertontimes.example/2022/06/14/bridge-closed"
HERALD = "https://valleyherald.example/news/bridge-closure"


def _article(aid: str, text: str, title: str, source: str, url: str, day: str) -> dict[str, str]:
    return {"id": aid, "text": text, "title": title, "source": source, "url": url, "published_at": day}


ARTICLES = [
    _article("bridge-times", BRIDGE, "Old river bridge to close for repairs", "Riverton Times", TIMES, "2022-06-14"),
    # A syndicated copy under another outlet: its own dateline and sign-off, a day later.
    _article("bridge-herald", "RIVERTON (Wire) — " + BRIDGE.replace("on Tuesday", "Tuesday") + " Reporting by the "
             "wire desk.", "Council shuts river bridge", "Valley Herald", HERALD, "2022-06-15"),
    # The same page as the first, reached through a feed link: one source, never "another outlet".
    _article("bridge-times-feed", BRIDGE, "Old river bridge to close for repairs", "Riverton Times",
             TIMES + "/index.html?utm_source=feed", "2022-06-14"),
    _article("parking", PARKING, "Parking fees to double in the old town", "Riverton Times",
             "https://rivertontimes.example/2022/06/14/parking-fees", "2022-06-14"),
    _article("harbour", HARBOUR, "Boats back in harbour after the storm", "Coast News",
             "https://coastnews.example/harbour-storm", "2022-06-15"),
]
QUESTION = "How long will the old river bridge be closed for repairs?"
BRIDGE_IDS = {"bridge-times", "bridge-herald", "bridge-times-feed"}


def _write(path: Path, articles: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(a) + "\n" for a in articles), "utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return _write(tmp_path / "articles.jsonl", ARTICLES)


def _service(tmp_path: Path, embedder: MiniLMEmbedder, **options: object) -> Newsdesk:
    return build_service(Settings(data_dir=tmp_path / "data", **options), embedder=embedder)


def test_ingest_groups_the_copies_and_reingest_keeps_them_without_signing_again(
    tmp_path: Path, corpus: Path, embedder: MiniLMEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    service = _service(tmp_path, embedder)
    first = service.ingest([corpus])
    assert first.stories is not None and (first.stories.signed, first.stories.groups) == (5, 1)
    assert service.stories is not None and service.stories.groups() == [sorted(BRIDGE_IDS)]
    assert (tmp_path / "data" / "stories" / "newsdesk.sqlite").is_file()

    again = service.ingest([corpus])
    assert again.unchanged == 5 and again.stories is not None and again.stories.signed == 0
    assert (again.stories.groups, again.stories.grouped) == (1, 3)
    reopened = _service(tmp_path, embedder)  # another process would read the same file
    assert reopened.stories is not None and reopened.stories.groups() == [sorted(BRIDGE_IDS)]
    story = reopened.stories.stories_of(["bridge-herald", "parking"])
    assert set(story) == {"bridge-herald"}
    assert {m.article_id for m in story["bridge-herald"].members} == BRIDGE_IDS

    assert stories_eval.main(["--store", str(tmp_path / "data")]) == 0  # what eval/README reports
    measured = json.loads(capsys.readouterr().out)
    assert (measured["groups"], measured["groups_across_pages"], measured["multi_address_found"]) == (1, 1, 1)


def test_a_store_from_before_stories_gets_its_groups_on_its_next_ingest(
    tmp_path: Path, corpus: Path, embedder: MiniLMEmbedder
) -> None:
    off = _service(tmp_path, embedder, stories=False)
    assert off.ingest([corpus]).stories is None
    assert not (tmp_path / "data" / "stories").exists()
    report = _service(tmp_path, embedder).ingest([corpus])
    assert report.chunks_embedded == 0  # nothing re-embeds: only the grouping runs
    assert report.stories is not None and (report.stories.signed, report.stories.groups) == (5, 1)


def test_deleting_and_changing_articles_updates_the_groups(
    tmp_path: Path, corpus: Path, embedder: MiniLMEmbedder
) -> None:
    service = _service(tmp_path, embedder)
    service.ingest([corpus])
    assert service.delete(["bridge-times-feed"]) == 1
    assert service.stories is not None and service.stories.groups() == [["bridge-herald", "bridge-times"]]
    rewritten = [dict(a, text=HARBOUR.replace("Wednesday", "Thursday")) if a["id"] == "bridge-herald" else a
                 for a in ARTICLES if a["id"] != "bridge-times-feed"]
    report = service.ingest([_write(corpus, rewritten)])
    assert report.stories is not None and report.stories.signed == 1
    assert service.stories.groups() == [["bridge-herald", "harbour"]]  # now a copy of the harbour story
    with sqlite3.connect(tmp_path / "data" / "stories" / "newsdesk.sqlite") as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone() == (4,)


def _ask(service: Newsdesk) -> Answer:
    return service.ask(QUESTION, asked_on="2022-06-16")


def test_the_answer_shows_the_story_once_with_its_other_outlet(
    tmp_path: Path, corpus: Path, embedder: MiniLMEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    service = _service(tmp_path, embedder)
    service.ingest([corpus])
    answer = _ask(service)
    bridge = [p for p in answer.passages if p.chunk.article_id in BRIDGE_IDS]
    assert {p.chunk.article_id for p in bridge} == {"bridge-times"}  # the best-ranked copy stays
    assert {p.chunk.article_id for p in answer.passages} >= {"parking", "harbour"}  # other stories fill the rest
    also = bridge[0].also
    assert [(m.article_id, m.source, m.url) for m in also] == [("bridge-herald", "Valley Herald", HERALD)]
    cited = [c for c in answer.citations if c.article_id == "bridge-times"]
    assert cited and all(c.also == also for c in cited) and "six weeks" in answer.text

    record = answer_json(answer)["citations"]
    assert record[0]["also"] == [{"article_id": "bridge-herald", "title": "Council shuts river bridge",
                                  "source": "Valley Herald", "url": HERALD, "published_at": "2022-06-15"}]
    assert extra(answer).citations[0].also[0].source == "Valley Herald"  # the API's newsdesk record
    assert answer_from_json(answer_to_json(answer)) == answer  # a saved chat reopens with its "also reported by"
    card = article_card(number_by_article(answer.text, answer.citations).sources[0], answer.passages, 1)
    assert "<details" in card and "also reported by Valley Herald (1)" in card and HERALD in card

    assert main(["ask", QUESTION, "--as-of", "2022-06-16"]) == 0  # the CLI, on the same data dir
    printed = capsys.readouterr().out
    assert "    also reported by Valley Herald (1)" in printed and printed.count("Old river bridge") == 1


def test_with_stories_off_the_copies_are_separate_sources(
    tmp_path: Path, corpus: Path, embedder: MiniLMEmbedder
) -> None:
    service = _service(tmp_path, embedder, stories=False)
    service.ingest([corpus])
    answer = _ask(service)
    assert {p.chunk.article_id for p in answer.passages} >= {"bridge-times", "bridge-herald"}
    assert all(not p.also for p in answer.passages) and all(not c.also for c in answer.citations)


def test_a_broken_story_file_is_a_clear_error_naming_the_fix(
    tmp_path: Path, corpus: Path, embedder: MiniLMEmbedder
) -> None:
    service = _service(tmp_path, embedder)
    service.ingest([corpus])
    (tmp_path / "data" / "stories" / "newsdesk.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="Delete that file and run `newsdesk ingest`"):
        _ask(service)
    with pytest.raises(StoreError, match="run `newsdesk ingest` again"):
        service.delete(["parking"])
