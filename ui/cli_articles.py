"""`newsdesk articles`, `newsdesk delete` and `newsdesk feedback export`: what is stored, and the page's ratings."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.exit_codes import EXIT_ERROR
from rag.settings import load_settings


def cmd_articles(args: argparse.Namespace) -> int:
    from ingest.service import build_service

    rows = build_service(load_settings()).catalog()  # newest first, without the texts
    if args.json:
        print(json.dumps([{"id": a.id, "title": a.title, "source": a.source, "published_at": a.published_at,
                           "url": a.url, "chunks": chunks} for a, chunks in rows], ensure_ascii=False))
        return 0
    for a, _ in rows:
        print(f"{a.id}\t{a.published_at or '-':10}\t{a.source}\t{a.title}")
    print(f"{len(rows)} articles", file=sys.stderr)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from ingest.service import build_service

    service = build_service(load_settings())
    ids = list(dict.fromkeys(args.ids))
    known = set(service.article_ids())
    gone = [i for i in ids if i in known]
    service.delete(gone)
    missing = [i for i in ids if i not in known]
    for article_id in gone:
        print(f"deleted {article_id}")
    for article_id in missing:
        print(f"error: no article {article_id!r} in the store; `newsdesk articles` lists the ids", file=sys.stderr)
    return EXIT_ERROR if missing else 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from ui.chats import ChatStore
    from ui.feedback import question_set

    settings = load_settings()
    ratings = ChatStore(settings.data_dir).ratings()
    text = question_set(ratings)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        out = Path(args.out or settings.data_dir / "feedback-questions.jsonl")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, "utf-8")
        print(f"wrote {len(ratings)} rated answers to {out}; run `newsdesk eval --questions {out}` to score them",
              file=sys.stderr)
    return 0
