"""`newsdesk`: the command-line edge. Errors become messages and exit codes here and nowhere deeper."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import NewsdeskError
from rag.exit_codes import EXIT_ERROR, EXIT_INTERRUPTED
from rag.records import HEADLINE_ONLY, also_reported
from rag.settings import Settings
from ui.answer_json import answer_json
from ui.cli_articles import cmd_articles, cmd_delete, cmd_feedback
from ui.ports import check_port_free

if TYPE_CHECKING:
    from ingest.service import Newsdesk


def _settings() -> Settings:
    from rag.settings import load_settings

    return load_settings()


def cmd_ingest(args: argparse.Namespace, service: Newsdesk | None = None) -> int:
    from ingest.feeds import RemoteSources
    from ingest.service import build_service
    from rag.pipeline import BUNDLED_CORPUS

    service = service or build_service(_settings())
    # Feeds and URLs (ingest/feeds.py): http(s) arguments and feeds.txt lists are fetched, not read as paths.
    remote = RemoteSources.from_args(list(args.paths), service.settings)
    paths = remote.paths or ([] if remote.urls or remote.problems else [BUNDLED_CORPUS])
    progress = _progress_bar(paths, quiet=args.quiet or args.json)
    try:
        report = service.ingest(paths, prune=args.prune, rebuild=args.rebuild, progress=progress.update,
                                extra=remote.items())
    finally:
        progress.close()
    remote.commit()
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
    if report.stories is not None and report.stories.groups:  # ingest/story_index.py
        print(f"stories told by several articles: {report.stories.groups} ({report.stories.grouped} articles)")
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


def cmd_watch(args: argparse.Namespace) -> int:
    """Refresh feeds every ``--every`` (one service for the whole watch: one Chroma client per process)."""
    from datetime import UTC, datetime

    from ingest.service import build_service
    from ingest.watch import parse_every, watch

    try:
        every = parse_every(args.every)
    except ValueError as exc:
        raise NewsdeskError(str(exc)) from exc
    service = build_service(_settings())
    once = argparse.Namespace(paths=args.feeds, prune=False, rebuild=False, json=False, quiet=True)

    def run_once() -> int:
        print(datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"), end="  ", flush=True)
        try:
            return cmd_ingest(once, service)
        except NewsdeskError as exc:  # one failed round (store busy, say) does not end the watch
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code

    return watch(run_once, every, args.count)


def cmd_status(args: argparse.Namespace) -> int:
    from ingest.service import build_service

    status = build_service(_settings()).status()
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


def cmd_ask(args: argparse.Namespace) -> int:
    from ingest.service import build_service
    from rag.filters import Filters
    from rag.streaming import AnswerStream

    service = build_service(_settings())
    filters = Filters(
        sources=tuple(args.source or ()), since=_iso(args.since, "--since"), until=_iso(args.until, "--until")
    )
    streamed: list[str] = []
    as_of = _iso(args.as_of, "--as-of")
    pieces = AnswerStream(service.stream(args.question, k=args.k, filters=filters, asked_on=as_of or None))
    live = service.settings.generative  # an offline answer arrives whole: it is shown renumbered by article
    for piece in pieces:
        if not args.json:
            streamed.append(piece)
            if live:
                print(piece, end="", flush=True)
    final = pieces.final()
    if args.json:
        print(json.dumps(answer_json(final), ensure_ascii=False))
        return 0
    for warning in final.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if live:  # already printed as it streamed, with the passage numbers its sources list
        print()
        _print_checks(final, "".join(streamed))
        _print_sources(final)
    else:
        _print_by_article(final)
    if final.searched:  # time words (rag/time_query.py) or --since/--until narrowed the dates
        from rag.time_query import describe_searched

        print(describe_searched(final.searched))
    return 0


def _print_by_article(answer: Any) -> None:
    """An offline answer with one [n] per cited article (``rag.numbering``), each source with its quotes."""
    from rag.numbering import number_by_article

    numbered = number_by_article(answer.text, answer.citations)
    print(numbered.text)
    if not numbered.sources:
        _print_sources(answer)  # a refusal: the closest passages
        return
    print("\nSources:")
    for source in numbered.sources:
        where = " — ".join(x for x in (source.title or source.article_id, source.url) if x)
        print(f"[{source.n}] {where}" + (f" ({source.published_at})" if source.published_at else ""))
        if source.citations and source.citations[0].also:  # one story told by other outlets (OneStory)
            print(f"    {also_reported(source.citations[0].also)}")
        for c in source.citations:
            print(f'    "{c.quote}"')


def _print_checks(answer: Any, streamed: str) -> None:
    """After a generated answer: sentences verification could not confirm, and the answer as finally kept
    when it differs from what streamed (bad markers repaired, unsupported sentences dropped)."""
    if answer.mode != "generative":
        return
    doubtful = [c for c in answer.checks if c.verdict != "supported"]
    if doubtful:
        print("\nChecked against the sources:")
        for check in doubtful:
            label = "⚠ not found in the sources" if check.verdict == "unsupported" else "⚠ only partly supported"
            print(f"  {label}: {check.sentence}")
    if answer.text.strip() != streamed.strip():
        print("\nAfter checking the sources:")
        print(answer.text)


def _print_sources(answer: Any) -> None:
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            where = " — ".join(x for x in (c.title or c.article_id, c.url) if x)
            print(f"[{c.n}] {where}" + (f" ({c.published_at})" if c.published_at else ""))
            if c.also:
                print(f"    {also_reported(c.also)}")
            print(f'    "{c.quote}"')
    elif answer.refused and answer.passages:
        print("\nClosest passages:")
        for i, p in enumerate(answer.passages[:3], start=1):
            snippet = " ".join(p.chunk.text.split())[:200] + "…" if p.chunk.text else f"{HEADLINE_ONLY} {p.chunk.url}"
            print(f"({i}) {p.chunk.title or p.chunk.article_id}: {snippet}")


def _iso(value: str | None, flag: str) -> str:
    if not value:
        return ""
    from datetime import date

    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise NewsdeskError(f"{flag} {value!r} is not a date: use YYYY-MM-DD, e.g. {flag} 2022-06-01.") from exc


def cmd_eval(args: argparse.Namespace) -> int:
    from eval.runner import main as run_eval
    from eval.runner import plan
    from ingest.service import build_service

    job = plan(args, _settings())
    return run_eval(args, job, build_service(job.settings))


def cmd_chat(args: argparse.Namespace) -> int:
    import os

    import ui
    from rag.embedder import DIMENSION, EMBEDDER_ID
    from rag.store import Store

    settings = _settings()
    other = args.port + 1
    check_port_free(args.host, args.port, f"`newsdesk chat --port {other}` (or `make chat PORT={other}`)")
    store = Store(settings, EMBEDDER_ID, DIMENSION)  # no model load just to count
    if not store.exists() or store.counts()[1] == 0:
        print("No articles indexed yet: ingesting the bundled corpus first, so the page can answer.", file=sys.stderr)
        code = cmd_ingest(argparse.Namespace(paths=[], prune=False, rebuild=False, json=False, quiet=False))
        if code == EXIT_ERROR:
            return code
    if args.host not in {"127.0.0.1", "localhost", "::1"}:
        print(f"warning: the page has no login; anyone who can reach {args.host}:{args.port} can read your "
              "articles and ask questions. Put it behind an authenticating proxy.", file=sys.stderr)
    argv = streamlit_argv(Path(ui.__file__).resolve().parent / "app.py", args.host, args.port)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)  # Streamlit takes over this process: Ctrl-C and signals reach it directly


def streamlit_argv(app: Path, host: str, port: int) -> list[str]:
    """The `streamlit run` command line: bound to ``host``, no telemetry, no browser, no calls out."""
    wildcard = host in {"0.0.0.0", "::", ""}
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", host, "--server.port", str(port),
        "--server.headless", "true",  # no browser window, no e-mail prompt
        "--browser.gatherUsageStats", "false",
        # A set address also stops Streamlit looking up this machine's external IP on the internet.
        "--browser.serverAddress", "localhost" if wildcard else host,
        "--server.fileWatcherType", "none", "--server.runOnSave", "false",
        "--client.toolbarMode", "minimal",  # no "Deploy" button
        "--client.showErrorDetails", "none",  # never a stack trace in the page (the page catches its own)
        "--client.showErrorLinks", "false",
        # Light and dark colours, no base: the page follows the browser's preference and keeps the theme switch.
        "--theme.light.primaryColor", "#1f6feb", "--theme.dark.primaryColor", "#58a6ff",
        "--server.maxUploadSize", "5",  # MB: what ingest takes per file (ingest.sources.MAX_ARTICLE_BYTES)
    ]


def cmd_serve(args: argparse.Namespace) -> int:
    from ui.api import serve
    from ui.api_guard import is_loopback

    settings = _settings()
    if not is_loopback(args.host) and settings.api_key is None:
        raise NewsdeskError(
            f"Refusing to serve on {args.host} without an API key: anyone who could reach it could read your "
            "articles and change your store. Set one first, e.g. "
            "`export NEWSDESK_API_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')`, "
            "or serve on 127.0.0.1."
        )
    return serve(settings, args.host, args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsdesk",
        description="Ask questions of your news articles; answers cite verbatim passages. "
        "Settings come from NEWSDESK_* environment variables or .env (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = sub.add_parser("ingest", help="add or update articles (.txt .md .html .jsonl; files, folders, URLs)")
    ingest.add_argument("paths", nargs="*",
                        help="files, folders, feed or page URLs, feeds.txt lists (default: the bundled corpus)")
    ingest.add_argument("--prune", action="store_true", help="remove stored articles from these paths that are gone")
    ingest.add_argument("--rebuild", action="store_true",
                        help="re-embed every stored article (after changing embedder or chunking)")
    ingest.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.set_defaults(handler=cmd_ingest)

    watch = sub.add_parser("watch", help="refresh feeds on an interval: only new or changed items are embedded")
    watch.add_argument("feeds", nargs="+", help="feed or page URLs, or feeds.txt files (one URL a line)")
    watch.add_argument("--every", default="30m", help="interval: 30m, 2h, 90s (one minute to one day; default 30m)")
    watch.add_argument("--count", type=int, default=None, help="stop after N refreshes (default: until Ctrl-C)")
    watch.set_defaults(handler=cmd_watch)

    status = sub.add_parser("status", help="what is indexed, where, and with what")
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(handler=cmd_status)

    ask = sub.add_parser("ask", help="answer a question with cited passages")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--k", type=int, default=None, help="passages to use (default NEWSDESK_K, 5)")
    ask.add_argument("--source", action="append", help="only articles from this source (repeatable)")
    ask.add_argument("--since", help="only articles published on or after YYYY-MM-DD")
    ask.add_argument("--until", help="only articles published on or before YYYY-MM-DD")
    ask.add_argument("--as-of", help="ask as on YYYY-MM-DD: favour that week's articles (default today)")
    ask.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ask.set_defaults(handler=cmd_ask)

    evaluate = sub.add_parser("eval", help="score answers on a question set (JSONL); writes report.json and report.md")
    evaluate.add_argument("--questions", required=True, help="question set, one JSON object per line")
    evaluate.add_argument("--corpus", help="ingest these articles into a store inside the report folder first")
    evaluate.add_argument("--report", help="report folder (default <data_dir>/reports/<timestamp>)")
    evaluate.add_argument("--json", action="store_true", help="print only the summary object on stdout")
    evaluate.add_argument("--baseline", action="store_true", help="also score the naive LangChain baseline")
    evaluate.add_argument("--limit", type=int, help="only the first N questions")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")
    evaluate.set_defaults(handler=cmd_eval)

    articles = sub.add_parser("articles", help="list the stored articles (id, date, source, title)")
    articles.add_argument("--json", action="store_true", help="one JSON list on stdout")
    articles.set_defaults(handler=cmd_articles)

    delete = sub.add_parser("delete", help="remove articles (record, chunks and BM25 entries) by id")
    delete.add_argument("ids", nargs="+", metavar="ID", help="article ids, as `newsdesk articles` lists them")
    delete.set_defaults(handler=cmd_delete)

    feedback = sub.add_parser("feedback", help="answer ratings from the page")
    feedback_sub = feedback.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = feedback_sub.add_parser("export", help="write the ratings as an eval question set (JSONL)")
    export.add_argument("--out", help="file to write (default <data_dir>/feedback-questions.jsonl; - for stdout)")
    export.set_defaults(handler=cmd_feedback)

    chat = sub.add_parser("chat", help="open the chat page (Streamlit) on this machine")
    chat.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    chat.add_argument("--host", default="127.0.0.1",
                      help="address to bind (default 127.0.0.1: this machine only; the page has no login)")
    chat.set_defaults(handler=cmd_chat)

    serve = sub.add_parser("serve", help="serve the HTTP API (OpenAI-compatible chat and native routes)")
    serve.add_argument("--port", type=int, default=8600, help="port to serve on (default 8600; Chroma uses 8000)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1; another address needs NEWSDESK_API_KEY)")
    serve.set_defaults(handler=cmd_serve)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except NewsdeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
