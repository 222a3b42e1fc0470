"""`newsdesk eval`: ask every question of a set, score the answers, write report.json and report.md.

With a corpus, the articles go into a store of the eval's own (ingest is incremental, so a re-run into
the same folder costs only the questions). With ``--baseline`` the naive LangChain pipeline of
eval/baseline.py answers the same questions from the same stored texts and is scored by the same rules.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.baseline import DESCRIPTION as BASELINE_DESCRIPTION
from eval.baseline import Baseline
from eval.metrics import DEPTH, Row, citation_valid, make_row
from eval.questions import Question, load_questions
from eval.report import summary_text, write_reports
from eval.results import EvalRun, SystemResult
from ingest.service import Newsdesk
from rag.errors import InputError, LLMError
from rag.records import Answer
from rag.settings import Settings

__all__ = ["EvalJob", "EvalRun", "SystemResult", "eval_settings", "main", "plan", "run_eval"]


def shown_path(path: Path | str) -> str:
    """A path as it goes into a report: relative to the working folder when inside it (no machine paths)."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _bar(total: int | None, desc: str, quiet: bool, unit: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, disable=quiet)


def ingest_corpus(service: Newsdesk, corpus: Path, quiet: bool = False) -> dict[str, Any]:
    """Bring the eval store in step with ``corpus`` (incremental, pruned); what it did, for the report."""
    from ingest.sources import estimate_articles

    if not corpus.exists():
        raise InputError(f"No corpus at {corpus}; pass --corpus a folder or file of articles.")
    bar = _bar(estimate_articles([corpus]) or None, "ingest", quiet, " articles")
    try:
        report = service.ingest([corpus], prune=True, progress=lambda articles, _chunks: bar.update(articles - bar.n))
    finally:
        bar.close()
    if not report.accepted:
        reasons = "; ".join(f"{r.where}: {r.reason}" for r in report.rejected[:3])
        raise InputError(f"Nothing in {corpus} could be ingested ({reasons or 'no articles found'}).")
    return {**report.as_dict(), "rejected": len(report.rejected), "notes": len(report.notes)}


def _ranking(service: Newsdesk, question: Question, asked: str) -> list[tuple[str, str]]:
    # Recall@10 needs ten passages, more than the answerer is given; ask for them separately, with the
    # question's date, so time-aware retrieval is scored the way the answer used it. ``asked`` is the question
    # as retrieval read it (a follow-up rewritten with the conversation).
    passages = service.retrieve(asked, k=DEPTH, asked_on=question.asked_on or None)
    return [(p.chunk.article_id, p.chunk.url) for p in passages]


def _citations(answer: Answer, service: Newsdesk, texts: dict[str, str | None]) -> list[dict[str, Any]]:
    rows = []
    for c in answer.citations:
        if c.article_id not in texts:
            article = service.article(c.article_id)
            texts[c.article_id] = article.text if article else None
        rows.append({
            "n": c.n, "article_id": c.article_id, "url": c.url, "quote": c.quote, "start": c.start, "end": c.end,
            "valid": citation_valid(c.quote, c.start, c.end, texts[c.article_id]),
        })
    return rows


def ask_newsdesk(service: Newsdesk, questions: list[Question], quiet: bool = False) -> list[Row]:
    """Rows for newsdesk: ``Newsdesk.ask`` (with the question's date) per question, scored. A turn of a
    conversation is asked with the conversation so far (its questions and newsdesk's answers) as history."""
    rows: list[Row] = []
    texts: dict[str, str | None] = {}
    said: dict[str, list[tuple[str, str]]] = {}
    with _bar(len(questions), "newsdesk", quiet, " q") as bar:
        for question in questions:
            started = time.perf_counter()
            try:
                history = said.setdefault(question.conversation, []) if question.conversation else []
                answer = service.ask(question.question, history=list(history), asked_on=question.asked_on or None)
                if question.conversation:
                    history.append((question.question, answer.text))
            except (LLMError, InputError) as exc:  # this question failed; a broken store stops the run
                rows.append(make_row(question, answer="", refused=False, mode="error", retrieved=[],
                                     total_ms=(time.perf_counter() - started) * 1000, error=str(exc)))
                bar.update()
                continue
            wall = (time.perf_counter() - started) * 1000
            timings = answer.timings_ms
            rows.append(make_row(
                question, answer=answer.text, refused=answer.refused, mode=answer.mode,
                retrieved=_ranking(service, question, answer.standalone_question or question.question),
                citations=_citations(answer, service, texts),
                verdicts=[c.verdict for c in answer.checks],
                retrieve_ms=timings.get("condense", 0.0) + timings.get("retrieve", 0.0),
                generate_ms=timings.get("answer", 0.0), total_ms=timings.get("total", wall),
                warnings=answer.warnings,
            ))
            bar.update()
    return rows


def ask_baseline(service: Newsdesk, questions: list[Question],
                 quiet: bool = False) -> tuple[list[Row], dict[str, Any]]:
    """Rows for the baseline over the same stored articles, and what building its index cost."""
    parts = service.pipeline
    baseline = Baseline(parts.store, parts.embedder, service.settings.data_dir / "baseline")
    with _bar(None, "baseline index", quiet, " articles") as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        info = baseline.build(progress)
    rows: list[Row] = []
    with _bar(len(questions), "baseline", quiet, " q") as bar:
        for question in questions:
            started = time.perf_counter()
            hits = baseline.search(question.question, DEPTH)
            elapsed = (time.perf_counter() - started) * 1000
            rows.append(make_row(
                question, answer=hits[0].text if hits else "", refused=False, mode="baseline",
                retrieved=[(h.article_id, h.url) for h in hits], retrieve_ms=elapsed, total_ms=elapsed,
            ))
            bar.update()
    built = {"collection": info.collection, "articles": info.articles, "chunks": info.chunks,
             "embedded": info.embedded, "reused": info.reused, "seconds": round(info.seconds, 2)}
    return rows, built


def eval_settings(settings: Settings, store_dir: Path) -> Settings:
    """The settings of an eval's own embedded store in ``store_dir`` (a Chroma server set in the environment is
    the user's, not ours); build the service handed to ``run_eval`` with them when it ingests a corpus."""
    return settings.model_copy(update={"data_dir": store_dir, "chroma_url": None})


def run_eval(service: Newsdesk, questions: list[Question], *, corpus: Path | None = None, baseline: bool = False,
             quiet: bool = False, meta: dict[str, Any] | None = None) -> EvalRun:
    """Ingest ``corpus`` through ``service`` if given, ask every question, score; the report is not written."""
    settings = service.settings
    info: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_questions": len(questions),
        "cpu_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "asked_on_passed": any(q.asked_on for q in questions),
    }
    if corpus is not None:
        info["corpus"] = shown_path(corpus)
        info["ingest"] = ingest_corpus(service, corpus, quiet)
    status = service.status()
    info.update(store=shown_path(status.store) if not settings.chroma_url else status.store,
                articles=status.articles, chunks=status.chunks, embedder=status.embedder,
                chunking=status.chunking, answer_mode=status.answer_mode, k=settings.k)
    info.update(meta or {})  # the caller's display values (relative paths, titles) win
    ours = SystemResult("newsdesk", status.answer_mode, ask_newsdesk(service, questions, quiet))
    run = EvalRun(info, ours)
    if baseline:
        rows, built = ask_baseline(service, questions, quiet)
        info["baseline_index"] = built
        run.baseline = SystemResult("baseline", BASELINE_DESCRIPTION, rows)
    return run


@dataclass(frozen=True)
class EvalJob:
    """What `newsdesk eval` was asked to do, worked out before the service exists (it needs ``settings``)."""

    questions_path: Path
    questions: list[Question]
    report_dir: Path
    corpus: Path | None
    settings: Settings  # what the service must be built with: the eval's own store when there is a corpus


def plan(args: argparse.Namespace, settings: Settings) -> EvalJob:
    """Check the `newsdesk eval` arguments and load the questions; the edge then builds the service."""
    if args.limit is not None and args.limit < 1:
        raise InputError("--limit must be 1 or more.")
    questions_path = Path(args.questions)
    questions = load_questions(questions_path, args.limit)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    report_dir = Path(args.report) if args.report else settings.data_dir / "reports" / stamp
    corpus = Path(args.corpus) if args.corpus else None
    if corpus is not None:
        settings = eval_settings(settings, report_dir / "store")
    return EvalJob(questions_path, questions, report_dir, corpus, settings)


def main(args: argparse.Namespace, job: EvalJob, service: Newsdesk) -> int:
    """The `newsdesk eval` command: ui/cli.py plans the ``job``, builds the service from ``job.settings`` and
    hands both over here."""
    run = run_eval(service, job.questions, corpus=job.corpus, baseline=args.baseline, quiet=args.quiet,
                   meta={"questions": shown_path(job.questions_path), "limit": args.limit})
    json_path, md_path = write_reports(run, job.report_dir)
    if args.json:
        print(json.dumps(summary_object(run)))
    else:
        print(summary_text(run))
        print(f"\nreport: {md_path}  ·  data: {json_path}")
    errors = run.ours.summary["errors"]
    if errors:
        print(f"warning: {errors} question(s) failed; see the 'error' field in {json_path}", file=sys.stderr)
    return 0


def summary_object(run: EvalRun) -> dict[str, Any]:
    """What `--json` prints: our summary, with the baseline's summary under ``baseline`` when it ran."""
    summary = dict(run.ours.summary)
    if run.baseline is not None:
        summary["baseline"] = run.baseline.summary
    return summary
