"""`newsdesk`: the command-line edge. Errors become messages and exit codes here and nowhere deeper."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rag.errors import NewsdeskError
from rag.settings import Settings

EXIT_ERROR, EXIT_USAGE, EXIT_PARTLY_REJECTED = 1, 2, 3


def _settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"NEWSDESK_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise NewsdeskError(f"Bad setting — {problems}. Fix the environment variable or .env entry.") from exc


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.indexer import Indexer
    from rag.pipeline import BUNDLED_CORPUS, build_pipeline

    paths = [Path(p) for p in args.paths] or [BUNDLED_CORPUS]
    pipeline = build_pipeline(_settings())
    indexer = Indexer(pipeline.settings, pipeline.embedder, pipeline.store, pipeline.lexical)
    progress = _progress_bar(paths, quiet=args.quiet or args.json)
    try:
        report = indexer.run(paths, prune=args.prune, rebuild=args.rebuild, progress=progress.update)
    finally:
        progress.close()
    if args.json:
        print(json.dumps({**report.as_dict(), "exit_code": report.exit_code}))
        return report.exit_code
    for note in report.notes:
        print(f"note: {note.where}: {note.message}", file=sys.stderr)
    for rejected in report.rejected:
        print(f"rejected: {rejected.where}: {rejected.reason}", file=sys.stderr)
    rate = f" ({report.chunks_embedded / report.embed_seconds:.1f} chunks/s embedding)" if report.embed_seconds else ""
    print(
        f"added {report.added} · updated {report.updated} · unchanged {report.unchanged} · "
        f"removed {report.removed} · rejected {len(report.rejected)}"
        + (f" · re-indexed {report.reindexed}" if report.reindexed else "")
        + f" — {report.chunks_embedded} chunks embedded in {report.seconds:.1f}s{rate}"
    )
    return report.exit_code


class _progress_bar:
    def __init__(self, paths: list[Path], quiet: bool) -> None:
        from ingest.sources import estimate_articles

        self.bar = None
        if not quiet:
            from tqdm import tqdm

            self.bar = tqdm(total=estimate_articles(paths) or None, unit=" articles", file=sys.stderr,
                            dynamic_ncols=True, desc="ingest")

    def update(self, articles: int, chunks: int) -> None:
        if self.bar is not None:
            self.bar.n = articles
            self.bar.set_postfix_str(f"{chunks} chunks embedded", refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_status(args: argparse.Namespace) -> int:
    from rag.pipeline import build_pipeline

    status = build_pipeline(_settings()).status()
    if args.json:
        print(json.dumps(status.as_dict()))
        return 0
    print(f"store       {status.store} (collection {status.collection})")
    print(f"articles    {status.articles}")
    print(f"chunks      {status.chunks}")
    print(f"embedder    {status.embedder}  ·  chunking {status.chunking}")
    print(f"last ingest {status.last_ingest or 'never'}")
    print(f"answers     {status.answer_mode}")
    if not status.articles:
        print("Nothing indexed yet: run `newsdesk ingest PATH` (or `newsdesk ingest` for the bundled corpus).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsdesk",
        description="Ask questions of your news articles; answers cite verbatim passages. "
        "Settings come from NEWSDESK_* environment variables or .env (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = sub.add_parser("ingest", help="add or update articles (.txt .md .html .jsonl; files or folders)")
    ingest.add_argument("paths", nargs="*", help="files or folders (default: the bundled corpus)")
    ingest.add_argument("--prune", action="store_true", help="remove stored articles from these paths that are gone")
    ingest.add_argument("--rebuild", action="store_true",
                        help="re-embed every stored article (after changing embedder or chunking)")
    ingest.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.set_defaults(handler=cmd_ingest)

    status = sub.add_parser("status", help="what is indexed, where, and with what")
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(handler=cmd_status)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


# Later commands (ask, chat, eval) register themselves here so this file stays one screen of wiring.
_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []  # type: ignore[type-arg]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except NewsdeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
