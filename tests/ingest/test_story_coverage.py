"""Two outlets' own write-ups of one event are one story (lead passages close in meaning, dated days apart),
while the same outlet's other story, or the write-up dated weeks later, is not. Real Chroma, real embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.service import build_service
from rag.embedder import MiniLMEmbedder
from rag.settings import Settings
from tests.ingest.test_stories import STORY

pytestmark = pytest.mark.integration

# The council story told again in another outlet's own words: few five-word runs in common with STORY, so only
# the meaning of the two ledes can join them.
REWRITE = (
    "Riverton's old river bridge is closing for repairs: the city council decided Tuesday after a routine "
    "inspection, in which engineers found cracks in two supports. Repairs should take six weeks; meanwhile "
    "traffic goes over the new bridge downstream, which can carry the extra load, the council said. Shop owners "
    "by the old bridge fear losing summer customers, the tourists who cross it on foot to the market. The mayor "
    "offered them a small fund and said the work could not wait because the cracks would grow in the autumn "
    "rains. Crews start Monday and will work through the night to finish before school begins."
)
PARKING = (
    "The council agreed on Tuesday to double parking fees in the old town from next month, saying the money "
    "would pay for new buses and a wider pavement on the market square. Traders said the rise would drive "
    "shoppers to the retail park outside town, where parking is free, and asked for a year's delay."
)


def _article(aid: str, text: str, title: str, source: str, day: str) -> dict[str, str]:
    return {"id": aid, "text": text, "title": title, "source": source, "published_at": day,
            "url": f"https://{source.lower().replace(' ', '')}.example/{aid}"}


def test_coverage_of_one_event_by_two_outlets_is_one_story(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    articles = [
        _article("times", STORY, "Old river bridge to close for repairs", "Riverton Times", "2022-06-14"),
        _article("courier", REWRITE, "River bridge closed for repairs after cracks found", "Coast Courier",
                 "2022-06-15"),
        _article("parking", PARKING, "Parking fees to double in the old town", "Coast Courier", "2022-06-14"),
        # The same write-up a month on is a later story, and one outlet's two write-ups are not "also reported".
        _article("courier-later", REWRITE, "River bridge closed for repairs after cracks found", "Coast Courier",
                 "2022-07-20"),
        _article("times-again", REWRITE, "Bridge repairs: what we know", "Riverton Times", "2022-06-15"),
    ]
    corpus = tmp_path / "articles.jsonl"
    corpus.write_text("".join(json.dumps(a) + "\n" for a in articles), "utf-8")
    service = build_service(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    service.ingest([corpus])
    assert service.stories is not None
    # courier ~ times by meaning (two outlets, a day apart); times-again is the courier's text (a copy)
    assert service.stories.groups() == [["courier", "times", "times-again"]]
    # With the courier gone, the Times' two write-ups are one outlet's own: not "also reported by".
    service.delete(["courier"])
    assert service.stories.groups() == []
