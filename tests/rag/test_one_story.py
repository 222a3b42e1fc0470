"""rag.retrieval.stories.OneStory: one article per story among the candidates, the story's other pages on it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from rag.lexical import LexicalIndex
from rag.records import Chunk, Reported, Story
from rag.retrieval.candidates import Candidate, Query, Ranking
from rag.retrieval.stories import OneStory

pytestmark = pytest.mark.unit


class StoryTable:
    """An in-memory story map (the production one is ingest.story_index.StoryIndex over SQLite)."""

    def __init__(self, *stories: Story) -> None:
        self.by_article = {m.article_id: s for s in stories for m in s.members}
        self.asked: list[list[str]] = []

    def stories_of(self, article_ids: Sequence[str]) -> dict[str, Story]:
        self.asked.append(list(article_ids))
        return {a: self.by_article[a] for a in article_ids if a in self.by_article}


def _candidate(article_id: str, position: int, score: float, url: str = "") -> Candidate:
    chunk = Chunk(f"{article_id}#{position}", article_id, position, "text", 0, 4, url=url)
    return Candidate(chunk.id, article_id, "2022-06-14", chunk, score)


def _ranking(*candidates: Candidate) -> Ranking:
    def no_index() -> LexicalIndex:
        raise AssertionError("OneStory reads no BM25")

    ranking = Ranking(Query("q", np.zeros(3, dtype=np.float32), 5, 20), no_index)
    ranking.candidates = list(candidates)
    return ranking


WIRE = Reported("wire", "Bridge shut", "Wire", "https://wire.example/bridge")
HERALD = Reported("herald", "Council shuts bridge", "Herald", "https://herald.example/bridge")
HERALD_FEED = Reported("herald-feed", "Council shuts bridge", "Herald", "https://herald.example/bridge?utm_source=x")
BRIDGE = Story("herald", (HERALD, HERALD_FEED, WIRE))


def test_the_best_ranked_member_stays_and_lists_the_other_pages_only() -> None:
    ranking = _ranking(_candidate("herald", 0, 0.9, HERALD.url), _candidate("other", 0, 0.8),
                       _candidate("wire", 0, 0.7, WIRE.url), _candidate("herald-feed", 0, 0.6, HERALD_FEED.url),
                       _candidate("herald", 1, 0.5, HERALD.url))
    stories = StoryTable(BRIDGE)
    OneStory(stories).run(ranking)
    assert [c.id for c in ranking.candidates] == ["herald#0", "other#0", "herald#1"]
    assert ranking.also == {"herald": (WIRE,)}  # the feed address is the same page: not another outlet
    assert stories.asked == [["herald", "other", "wire", "herald-feed"]]  # one look-up per question


def test_candidates_outside_any_story_are_left_as_they_were() -> None:
    ranking = _ranking(_candidate("a", 0, 0.9), _candidate("b", 0, 0.8))
    OneStory(StoryTable(BRIDGE)).run(ranking)
    assert [c.id for c in ranking.candidates] == ["a#0", "b#0"] and ranking.also == {}


def test_a_headline_only_link_never_stands_for_its_story() -> None:
    link = Candidate("herald-feed", "herald-feed", "2022-06-14", None, 0.95)  # found by its headline alone
    ranking = _ranking(link, _candidate("herald", 0, 0.9, HERALD.url), _candidate("wire", 0, 0.7, WIRE.url))
    OneStory(StoryTable(BRIDGE)).run(ranking)
    assert [c.id for c in ranking.candidates] == ["herald-feed", "herald#0"]  # the text copy stays
    assert ranking.also == {"herald": (WIRE,)}
