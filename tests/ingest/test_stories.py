"""ingest.stories: copies of one story are grouped, other stories (even on the same topic) are not."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.stories import Doc, MinHasher, StoryConfig, group_stories, similarity

pytestmark = pytest.mark.unit

STORY = (
    "The city council voted on Tuesday to close the old river bridge for repairs after engineers found cracks in "
    "two of its supports during a routine inspection. The closure is expected to last six weeks, and traffic "
    "will be sent over the new bridge downstream, which the council said could carry the extra load. Shop "
    "owners near the bridge said they feared losing customers during the summer, when tourists usually cross "
    "on foot to reach the market. The mayor promised a small fund to help them and said the repairs could not "
    "wait, because the engineers had warned that the cracks would grow in the autumn rains. Work is due to "
    "start on Monday, with crews on site through the night to finish before the school year begins."
)
OTHER = (
    "The city council voted on Tuesday to raise parking fees in the old town after a year of complaints about "
    "traffic, and said the money would pay for two new bus routes to the market. Drivers will pay twice as much "
    "for an hour near the river from next month, while residents keep their permits at the old price. Shop "
    "owners said they feared losing customers, but the mayor said buses would bring more people than cars ever "
    "did. The first new route is due to start in the autumn, once the council has hired eight more drivers."
)
SIGN_UP = ("Sign up for our newsletter to get the day's top stories in your inbox every morning, and follow us "
           "on social media for breaking news, photos and videos from around the world. ") * 3


def _docs(*docs: Doc) -> list[list[str]]:
    return group_stories(list(docs), StoryConfig(max_df=100))


def test_a_syndicated_copy_with_its_own_dateline_is_the_same_story() -> None:
    copy = "RIVERTON (Wire) — " + STORY.replace("on Tuesday", "Tuesday") + " Reporting by the wire desk."
    assert _docs(Doc("a", STORY, "2022-06-14"), Doc("b", copy, "2022-06-15")) == [["a", "b"]]


def test_a_copy_cut_short_by_its_crawler_is_the_same_story() -> None:
    assert _docs(Doc("full", STORY, "2022-06-14"), Doc("cut", STORY[:420], "2022-06-14")) == [["full", "cut"]]


def test_another_story_on_the_same_topic_is_not() -> None:
    assert _docs(Doc("a", STORY, "2022-06-14"), Doc("b", OTHER, "2022-06-14")) == []


def test_a_copy_outside_the_date_window_is_not_grouped_but_an_undated_one_is() -> None:
    assert _docs(Doc("a", STORY, "2022-06-14"), Doc("b", STORY, "2022-07-14")) == []
    assert _docs(Doc("a", STORY, "2022-06-14"), Doc("b", STORY, "")) == [["a", "b"]]


def test_one_page_under_two_addresses_is_one_story_even_when_its_text_moved_on() -> None:
    morning = Doc("https://www.example.com/2022/06/14/live/index.html", STORY, "2022-06-14")
    evening = Doc("https://example.com/2022/06/14/live?utm_source=feed", OTHER, "2022-06-14")
    assert _docs(morning, evening) == [[morning.id, evening.id]]


def test_pages_that_share_only_boilerplate_are_not_grouped() -> None:
    pages = [Doc(f"p{i}", f"Story {i} has one line of its own about subject {i}. " + SIGN_UP, "2022-06-14")
             for i in range(12)]
    assert group_stories(pages, StoryConfig(max_df=8)) == []


def test_minhash_estimates_jaccard_without_favouring_small_hashes() -> None:
    hasher = MinHasher()
    rng = np.random.default_rng(0)
    shared = rng.integers(0, 1 << 32, size=300, dtype=np.uint64)
    one = np.concatenate([shared, rng.integers(0, 1 << 32, size=300, dtype=np.uint64)])
    other = np.concatenate([shared, rng.integers(0, 1 << 32, size=300, dtype=np.uint64)])
    assert abs(similarity(hasher.signature_of(one), hasher.signature_of(other)) - 1 / 3) < 0.12
    small = np.array([1, 2, 3], dtype=np.uint64)  # tiny values in both sets must not win every minimum
    disjoint_a = np.concatenate([small, rng.integers(1 << 20, 1 << 32, size=900, dtype=np.uint64)])
    disjoint_b = np.concatenate([small, rng.integers(1 << 20, 1 << 32, size=250, dtype=np.uint64)])
    assert similarity(hasher.signature_of(disjoint_a), hasher.signature_of(disjoint_b)) < 0.1
