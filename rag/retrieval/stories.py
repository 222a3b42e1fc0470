"""One story, one passage: copies of a story grouped at ingest (``ingest.stories``) are shown once.

Syndicated copies and an outlet's own rewrites of a story rank side by side, so without this stage the sources
repeat one story and the answer's extra sentences come from copies of it. The best-ranked member stays; the
story's other pages are recorded on it (``Passage.also``: "also reported by …"). Members that are the same page
under another address are left to ``OnePerPage`` and not listed: they are the same source, not another outlet.
"""

from __future__ import annotations

from rag.records import Reported
from rag.retrieval.candidates import Ranking
from rag.roles import StoryMap
from rag.urls import canonical_url


class OneStory:
    """Drops every candidate whose story an earlier-ranked article already tells (runs after ``Order``, before
    ``OnePerPage``), and records the story's other pages on the article that stays (``ranking.also``)."""

    def __init__(self, stories: StoryMap) -> None:
        self.stories = stories

    def run(self, ranking: Ranking) -> None:
        articles = list(dict.fromkeys(c.article_id for c in ranking.candidates))
        found = self.stories.stories_of(articles)
        if not found:
            return
        teller: dict[str, str] = {}  # story id -> the best-ranked article that tells it
        kept = []
        for candidate in ranking.candidates:
            story = found.get(candidate.article_id)
            # A headline-only link (no text to quote) never stands for its story: the copy with text would go.
            textless = candidate.chunk is None or not candidate.chunk.text
            if story is None or textless or teller.setdefault(story.id, candidate.article_id) == candidate.article_id:
                kept.append(candidate)
        ranking.candidates = kept
        for article_id in teller.values():
            members = found[article_id].members
            own = next((_page(m) for m in members if m.article_id == article_id), article_id)
            others = tuple(m for m in members if m.article_id != article_id and _page(m) != own)
            if others:
                ranking.also[article_id] = others


def _page(member: Reported) -> str:
    """The page a member is (as ``Candidate.page``): its address written one way, else its id."""
    return canonical_url(member.url) or member.article_id
