"""How well ``ingest.stories`` groups copies of one story, on a RealTime QA article file (no embedding).

    python -m eval.stories --articles ../shared/data/realtimeqa-2022/articles.jsonl [--sample 50] [--show]
    python -m eval.stories --store DATA_DIR   # the groups `newsdesk ingest` stored (ingest/story_index.py)

Prints the number of articles and groups, the recall on pages stored under several addresses (every address
of such a page must land in one group: those are certain copies), and ``--sample`` random groups with their
members' titles, dates and addresses for checking by hand (the precision figure in eval/README.md is that check).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from pathlib import Path

from ingest.meta import parse_date
from ingest.stories import Doc, StoryConfig, group_stories
from ingest.story_index import StoryIndex
from rag.settings import Settings
from rag.urls import canonical_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--articles", type=Path, help="group this JSONL file's articles from scratch")
    source.add_argument("--store", type=Path, help="read the groups ingest stored in this data dir")
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--show", action="store_true", help="print the sampled groups")
    args = parser.parse_args(argv)
    if args.store:
        return _stored(args.store, args.sample if args.show else 0, args.seed)
    docs: list[Doc] = []
    meta: dict[str, tuple[str, str]] = {}
    for line in args.articles.open(encoding="utf-8"):
        row = json.loads(line)
        if len(row.get("text") or "") < 200:
            continue  # links without text cannot be compared by their words
        doc = Doc(row["id"], row["text"], parse_date(str(row.get("published_at") or "")))
        docs.append(doc)
        meta[doc.id] = (str(row.get("title") or ""), doc.published_at)
    started = time.perf_counter()
    groups = group_stories(docs, StoryConfig())
    seconds = time.perf_counter() - started
    group_of = {member: n for n, group in enumerate(groups) for member in group}
    pages: dict[str, list[str]] = defaultdict(list)
    for doc in docs:
        pages[canonical_url(doc.id) or doc.id].append(doc.id)
    multi = [ids for ids in pages.values() if len(ids) > 1]
    found = [ids for ids in multi if ids[0] in group_of and len({group_of.get(i) for i in ids}) == 1]
    result = {
        "articles": len(docs), "groups": len(groups), "articles_in_groups": len(group_of),
        "largest": max((len(g) for g in groups), default=0), "seconds": round(seconds, 1),
        "groups_across_pages": sum(len({canonical_url(m) or m for m in g}) > 1 for g in groups),
        "multi_address_pages": len(multi), "multi_address_found": len(found),
    }
    print(json.dumps(result))
    if args.show:
        for n, group in enumerate(random.Random(args.seed).sample(groups, min(args.sample, len(groups))), 1):
            print(f"\n#{n} ({len(group)})")
            for member in group:
                title, day = meta[member]
                print(f"   {day or '----------'}  {title[:70]!r:72}  {member[:90]}")
    return 0


def _stored(data_dir: Path, sample: int = 0, seed: int = 18) -> int:
    """The stored groups' counts, and whether every page stored under several addresses is in one group."""
    index = StoryIndex(Settings(data_dir=data_dir).stories_path)
    groups, addresses = index.groups(), index.addresses()
    if not addresses:
        print(f"No story groups in {data_dir}: run `newsdesk ingest` on it first (with NEWSDESK_STORIES on).")
        return 1
    group_of = {member: n for n, group in enumerate(groups) for member in group}
    pages: dict[str, list[str]] = defaultdict(list)
    for aid, url in addresses.items():
        pages[canonical_url(url or aid) or aid].append(aid)
    multi = [ids for ids in pages.values() if len(ids) > 1]
    found = [ids for ids in multi if ids[0] in group_of and len({group_of.get(i) for i in ids}) == 1]
    print(json.dumps({
        "articles": len(addresses), "groups": len(groups), "articles_in_groups": len(group_of),
        "largest": max((len(g) for g in groups), default=0),
        "groups_across_pages": sum(len({canonical_url(addresses[m] or m) or m for m in g}) > 1 for g in groups),
        "multi_address_pages": len(multi), "multi_address_found": len(found),
    }))
    if sample:
        stories = index.stories_of([m for g in groups for m in g])
        for n, group in enumerate(random.Random(seed).sample(groups, min(sample, len(groups))), 1):
            print(f"\n#{n} ({len(group)})")
            for member in stories[group[0]].members:
                print(f"   {member.published_at or '----------'}  {member.source[:16]:16}  {member.title[:70]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
