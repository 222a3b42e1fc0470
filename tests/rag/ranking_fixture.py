"""A small hand-written corpus and questions whose exact ranking (passages, order, scores) is pinned in
test_ranking_pinned.py, so the retrieval stages can be reorganised without moving a single result."""

from __future__ import annotations

import json
from pathlib import Path

from rag.filters import Filters

STRIKE = " ".join(
    f"Day {n} of the harbour strike: dock workers in Rotterdam kept the cranes idle while talks over pay went on."
    for n in range(1, 30)
)

RECORDS: list[dict[str, str]] = [
    {"id": "strike", "title": "Harbour strike drags on", "text": STRIKE, "published_at": "2022-06-10",
     "source": "Harbour Post", "url": "https://harbour.example/2022/06/10/strike/index.html"},
    {"id": "strike-copy", "title": "Harbour strike drags on", "text": STRIKE + " Updated.",
     "published_at": "2022-06-10", "source": "Harbour Post",
     "url": "https://www.harbour.example/2022/06/10/strike?utm_source=feed"},
    {"id": "cranes", "title": "New cranes arrive in Rotterdam", "published_at": "2022-05-01", "source": "Ports Daily",
     "text": "Three new ship-to-shore cranes arrived at the Maasvlakte terminal, doubling its capacity."},
    {"id": "pay-deal", "title": "Dock workers accept pay deal", "published_at": "2022-06-20",
     "source": "Harbour Post",
     "text": "Dock workers in Rotterdam voted to accept a 6 percent pay rise, ending the harbour strike."},
    {"id": "link-only", "title": "Strike ends at the harbour", "url": "https://news.example/strike-ends-harbour",
     "published_at": "2022-06-19"},
    {"id": "bread", "title": "Bread prices climb after drought", "source": "Farm Weekly",
     "text": "Bakers raised bread prices for the third time this year as the wheat harvest shrank."},
]

QUESTIONS: list[tuple[str, dict[str, object]]] = [
    ("harbour strike dock workers Rotterdam", {"k": 5}),
    ("harbour strike dock workers Rotterdam", {"k": 3, "asked_on": "2022-06-21", "lead_passages": 3}),
    ("Did the strike end?", {"k": 4, "asked_on": "2022-06-21"}),
    ("cranes capacity", {"k": 2, "filters": Filters(sources=("Ports Daily", "Harbour Post"))}),
    ("bread prices", {"k": 3, "filters": Filters(since="2022-01-01", until="2022-12-31")}),
    ("new cranes", {"k": 6, "asked_on": "2022-05-03", "lead_passages": 2}),
]


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ranking.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n", "utf-8")
    return path
