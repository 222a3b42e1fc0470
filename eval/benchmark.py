"""The RealTime QA 2022 benchmark (`make bench-eval`): newsdesk and the baseline on real news questions.

Two variants over the same 220 questions: ``gold`` answers from the 235 gold articles only (quick),
``full`` from all 3,827 articles, gold plus the web-search results (about 30 minutes of embedding on two
cores the first time). Each variant keeps its store in ``.newsdesk/bench/<variant>`` so a re-run costs only
the questions, and writes ``docs/benchmarks/realtimeqa-<variant>-<date>/report.{json,md}``.

    python -m eval.benchmark --variant gold --limit 10
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from eval.questions import load_questions
from eval.report import summary_text, write_reports
from eval.results import EvalRun, SystemResult
from eval.runner import eval_settings, run_eval
from ingest.service import build_service
from rag.errors import InputError, NewsdeskError
from rag.settings import Settings

REPO = Path(__file__).resolve().parent.parent
DATA_ENV = "NEWSDESK_RTQA_DIR"
VARIANTS = {
    "gold": ("articles-gold.jsonl", "RealTime QA 2022 — gold articles only"),
    "full": ("articles.jsonl", "RealTime QA 2022 — full corpus (gold + web-search results)"),
}
NOTES = (
    "Data: RealTime QA (Kasai et al., NeurIPS 2023 Datasets and Benchmarks), the 22 weekly 2022 sets with "
    "gold articles, converted in ../shared/data/realtimeqa-2022 (not redistributed here).",
    "The questions are multiple choice upstream; here they are asked open-ended (no choices shown) and an "
    "answer is correct when the normalised correct option occurs in it (eval/README.md).",
    "Questions were written for their week (\"this week\"); the retrieval ranking for Recall/MRR gets the "
    "`asked_on` date too when `Pipeline.retrieve` accepts it.",
)


TEXT_NOTE = (
    "Answers and quotes are shown as references (article id and character offsets), not text: the RealTime QA "
    "articles may not be redistributed. `make bench-eval` writes the full report beside its store."
)


def default_data_dir() -> Path:
    """``$NEWSDESK_RTQA_DIR``, else ``../shared/data/realtimeqa-2022`` beside the repository."""
    return Path(os.environ.get(DATA_ENV) or REPO.parent / "shared" / "data" / "realtimeqa-2022")


def _relative(path: Path) -> str:
    """A path for the report, relative to the repository (reports are committed; no machine paths)."""
    return os.path.relpath(path.resolve(), REPO)


def git_commit() -> str:
    """The checked-out commit, with ``-dirty`` when tracked files differ from it; ``unknown`` outside git."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd=REPO,
                             capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def machine() -> str:
    """What the numbers were measured on (latency depends on it)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.system()} {platform.machine()}, {cores} CPU cores, Python {platform.python_version()}"


def run_variant(variant: str, data: Path, store_root: Path, out_root: Path, limit: int | None,
                quiet: bool) -> Path:
    """Run one variant with the baseline and write its report; the report folder."""
    corpus_name, title = VARIANTS[variant]
    corpus, questions_file = data / corpus_name, data / "questions.jsonl"
    for needed in (corpus, questions_file):
        if not needed.is_file():
            raise InputError(f"{needed} is missing; point {DATA_ENV} or --data at the realtimeqa-2022 folder.")
    questions = load_questions(questions_file, limit)
    date = datetime.now(UTC).date().isoformat()
    report_dir = out_root / (f"realtimeqa-{variant}-{date}" + (f"-limit{limit}" if limit else ""))
    store_dir = store_root / variant
    if not quiet:
        print(f"{title}: {len(questions)} questions, store {_relative(store_dir)}", file=sys.stderr)
    # `make bench-eval` is this module's own small edge: it builds the service the runner is handed.
    service = build_service(eval_settings(Settings(), store_dir))
    run = run_eval(
        service, questions, corpus=corpus, baseline=True, quiet=quiet,
        meta={"title": title + (f" (first {limit} questions)" if limit else ""),
              "questions": _relative(questions_file), "corpus": _relative(corpus), "store": _relative(store_dir),
              "limit": limit, "machine": machine(), "git_commit": git_commit(), "notes": list(NOTES)},
    )
    write_reports(run, store_dir / "report")  # the full report, article text included, stays local
    write_reports(without_article_text(run), report_dir)
    print(
        f"\n== {run.meta['title']} ==\n{summary_text(run)}\nreport: {_relative(report_dir)}/report.md "
        f"(with article text: {_relative(store_dir / 'report')}/report.md)"
    )
    return report_dir


def without_article_text(run: EvalRun) -> EvalRun:
    """The run as it may be committed: RealTime QA's article texts are not to be redistributed, so answers and
    quotes become references (cited article and offsets); scores and summaries are those of the full run."""

    def scrub(result: SystemResult) -> SystemResult:
        rows = [
            replace(
                row,
                answer=row.answer if row.refused or row.error else f"({len(row.answer)} characters of article text)",
                citations=[{k: v for k, v in c.items() if k != "quote"} for c in row.citations],
            )
            for row in result.rows
        ]
        scrubbed = SystemResult(result.name, result.description, rows)
        scrubbed.summary = result.summary
        return scrubbed

    meta = {**run.meta, "notes": [*run.meta.get("notes", []), TEXT_NOTE]}
    return EvalRun(meta, scrub(run.ours), scrub(run.baseline) if run.baseline else None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.benchmark", description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=["gold", "full", "both"], default="both",
                        help="gold: 235 gold articles (quick); full: all 3,827 articles (slow the first time)")
    parser.add_argument("--data", type=Path, default=None,
                        help=f"the realtimeqa-2022 folder (default ${DATA_ENV} or ../shared/data/realtimeqa-2022)")
    parser.add_argument("--limit", type=int, help="only the first N questions (report folder gets -limitN)")
    parser.add_argument("--store-root", type=Path, default=REPO / ".newsdesk" / "bench",
                        help="where each variant's store is kept between runs (default .newsdesk/bench)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks",
                        help="where the report folders go (default docs/benchmarks)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be 1 or more")
    data = args.data or default_data_dir()
    variants = ["gold", "full"] if args.variant == "both" else [args.variant]
    try:
        for variant in variants:
            run_variant(variant, data, args.store_root, args.out, args.limit, args.quiet)
    except NewsdeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
