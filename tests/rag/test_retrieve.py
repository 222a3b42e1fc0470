"""Hybrid retrieval on a real store: one passage per article, the title index, the lead article read deeper,
and the question's date."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from rag.pipeline import Pipeline
from tests.conftest import IngestPaths

pytestmark = pytest.mark.integration

# Long enough to be cut into several chunks (chunk_tokens=200), each sentence about the same strike.
STRIKE = " ".join(
    f"Day {n} of the harbour strike: dock workers in Rotterdam kept the cranes idle while talks over pay went on."
    for n in range(1, 40)
)


def _write(folder: Path, records: list[dict[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "feed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", "utf-8")
    return path


BRIDGE_QUESTION = "Why was the old bridge closed?"


def _bridge_reports(folder: Path, published: dict[str, str]) -> Path:
    """The same report of a bridge closing under each id, published on its date ("" for undated); the texts
    differ by trailing spaces, so each is an article of its own that only its date sets apart."""
    text = "The city council voted to close the old bridge for repairs, officials said."
    return _write(folder, [
        {"id": aid, "title": "Council closes bridge", "text": text + " " * n, **({"published_at": day} if day else {})}
        for n, (aid, day) in enumerate(published.items())
    ])


@pytest.fixture
def strike(tmp_path: Path) -> Path:
    """One article long enough for several chunks, all about the harbour strike."""
    return _write(tmp_path / "long", [{"id": "strike", "title": "Harbour strike drags on", "text": STRIKE}])


def test_one_passage_per_article_while_other_articles_remain(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, strike: Path
) -> None:
    ingest_paths(tiny_corpus, strike)
    passages = pipeline.retrieve("harbour strike dock workers Rotterdam", k=5)
    articles = [p.chunk.article_id for p in passages]
    assert articles[0] == "strike"
    assert len(articles) == len(set(articles)) == 5  # five sources, though "strike" alone has more chunks than that


def test_a_small_corpus_fills_the_list_with_more_passages_of_the_same_articles(
    pipeline: Pipeline, ingest_paths: IngestPaths, strike: Path
) -> None:
    ingest_paths(strike)
    chunks = pipeline.store.counts()[1]
    assert chunks >= 3
    passages = pipeline.retrieve("harbour strike", k=3)
    assert [p.chunk.article_id for p in passages] == ["strike"] * 3
    assert len({p.chunk.id for p in passages}) == 3


def test_lead_passages_read_further_into_the_best_article_only(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, strike: Path
) -> None:
    ingest_paths(tiny_corpus, strike)
    plain = pipeline.retrieve("harbour strike dock workers Rotterdam", k=4)
    deeper = pipeline.retrieve("harbour strike dock workers Rotterdam", k=4, lead_passages=2)
    assert len(deeper) == 5
    assert [p.chunk.article_id for p in deeper[:2]] == ["strike", "strike"]
    assert deeper[0] == plain[0] and deeper[2:] == plain[1:]  # the ranking itself is unchanged


def test_an_article_known_only_by_its_title_is_found_with_its_closest_passage(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A scraped page whose body is an ad prompt: only its title (from the URL slug) says what it is about.
    feed = _write(tmp_path / "pages", [{
        "url": "https://news.example/2022/06/15/business/ford-recall/index.html",
        "text": "1. How relevant is this ad to you?\n\nVideo player was slow to load content.",
    }])
    ingest_paths(tiny_corpus, feed)
    # Neither chunk retriever finds it (as when thousands of chunks outrank it); the title index still does.
    monkeypatch.setattr(pipeline.store, "query", lambda *args, **kwargs: [])
    monkeypatch.setattr(pipeline.fresh_lexical(), "search", lambda *args, **kwargs: [])
    [passage] = pipeline.retrieve("Ford recall", k=1)
    assert passage.chunk.article_id == "https://news.example/2022/06/15/business/ford-recall/index.html"
    assert passage.chunk.title == "Ford recall"
    assert passage.scores["title"] > 0 and passage.scores["bm25"] == 0.0


def test_the_question_date_favours_that_weeks_article_and_never_a_later_one(
    pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path
) -> None:
    ingest_paths(_bridge_reports(tmp_path / "dated", {"june": "2022-06-14", "march": "2022-03-02",
                                                      "july": "2022-07-20"}))
    assert [p.chunk.article_id for p in pipeline.retrieve(BRIDGE_QUESTION, k=3, asked_on="2022-06-16")] == [
        "june", "march", "july"]
    assert pipeline.retrieve(BRIDGE_QUESTION, k=1, asked_on="2022-07-25")[0].chunk.article_id == "july"


def test_an_undated_question_is_asked_today_unless_recency_is_off(
    pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path
) -> None:
    today = date.today()
    ingest_paths(_bridge_reports(tmp_path / "dated", {"old": str(today - timedelta(days=400)),
                                                      "new": str(today - timedelta(days=2))}))
    assert pipeline.retrieve(BRIDGE_QUESTION, k=1)[0].chunk.article_id == "new"
    long_ago = str(today - timedelta(days=398))
    assert pipeline.retrieve(BRIDGE_QUESTION, k=1, asked_on=long_ago)[0].chunk.article_id == "old"
    pipeline.settings.recency = False
    scores = {p.chunk.article_id: p.scores["fused"] for p in pipeline.retrieve(BRIDGE_QUESTION, k=2)}
    assert scores["new"] - scores["old"] < 0.01  # no date in play: only the words rank them


def test_an_undated_article_ranks_below_that_weeks_and_above_old_ones(
    pipeline: Pipeline, ingest_paths: IngestPaths, tmp_path: Path
) -> None:
    ingest_paths(_bridge_reports(tmp_path / "dated", {"june": "2022-06-14", "undated": "", "march": "2022-03-02"}))
    ranked = [p.chunk.article_id for p in pipeline.retrieve(BRIDGE_QUESTION, k=3, asked_on="2022-06-16")]
    assert ranked == ["june", "undated", "march"]


def test_one_page_under_several_addresses_is_one_source(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, tmp_path: Path
) -> None:
    page = "https://news.example/2022/10/17/tech/parler-sale"
    feed = _write(tmp_path / "copies", [
        {"id": "plain", "url": page, "title": "Rapper buys Parler", "text": "The rapper agreed to buy Parler."},
        {"id": "index", "url": page + "/index.html", "title": "Rapper buys Parler",
         "text": "The rapper agreed to buy Parler."},
        {"id": "feed", "url": page + "?cid=external-feeds_iluminar_google", "title": "Rapper buys Parler",
         "text": "The rapper agreed to buy Parler, the social network."},
    ])
    ingest_paths(tiny_corpus, feed)
    passages = pipeline.retrieve("Who is buying the Parler social network?", k=4)
    copies = [p.chunk.article_id for p in passages if p.chunk.article_id in {"plain", "index", "feed"}]
    assert len(copies) == 1 and passages[0].chunk.article_id == copies[0]
    assert len(passages) == 4  # the other three places go to other pages


def test_a_page_known_only_by_its_headline_is_found_and_shown_after_the_passages_answers_read(
    pipeline: Pipeline, ingest_paths: IngestPaths, tiny_corpus: Path, tmp_path: Path
) -> None:
    # A crawler that could not extract the page's text still has its address, whose slug is its headline.
    link = "https://news.example/travel/article/eiffel-tower-paris-needs-repairs/index.html"
    feed = _write(tmp_path / "links", [{"url": link, "text": ""}])
    report = ingest_paths(tiny_corpus, feed)
    assert report.rejected == [] and report.added == 7
    assert [n.message for n in report.notes if n.where.endswith("feed.jsonl:1")] == [
        "no text: indexed by its headline ('Eiffel tower paris needs repairs') and link only; answers cannot quote it"]
    stored = pipeline.store.get_article(link)
    assert stored is not None and (stored.text, stored.title) == ("", "Eiffel tower paris needs repairs")

    question = "Does the Eiffel Tower in Paris need repairs?"
    found = pipeline.retrieve(question, k=3)
    assert found[0].chunk.article_id == link
    assert len(found) == 4 and all(p.chunk.text for p in found[1:])  # the link does not take a reader's place
    answer = pipeline.answer(question, k=3)
    assert [p.chunk.article_id for p in answer.passages][-1] == link  # after the passages the answer read
    assert all(c.article_id != link for c in answer.citations)
