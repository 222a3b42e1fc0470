"""`newsdesk eval`: ask every question of a set, score the answers, write report.json and report.md.

With a corpus, the articles go into a store of the eval's own (ingest is incremental, so a re-run into
the same folder costs only the questions). With ``--baseline`` the naive LangChain pipeline of
eval/baseline.py answers the same questions from the same stored texts and is scored by the same rules.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.baseline import DESCRIPTION as BASELINE_DESCRIPTION
from eval.baseline import Baseline
from eval.metrics import DEPTH, Row, citation_valid, make_row, summarize
from eval.questions import Question, load_questions
from rag.errors import InputError, LLMError
from rag.pipeline import Pipeline, build_pipeline
from rag.records import Answer
from rag.settings import Settings


@dataclass
class SystemResult:
    """One system's rows and their summary."""

    name: str
    description: str
    rows: list[Row]
    summary: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.summary = summarize(self.rows)


@dataclass
class EvalRun:
    """Everything a report is written from."""

    meta: dict[str, Any]
    ours: SystemResult
    baseline: SystemResult | None = None


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


def ingest_corpus(settings: Settings, corpus: Path, quiet: bool = False) -> dict[str, Any]:
    """Bring the eval store in step with ``corpus`` (incremental, pruned); what it did, for the report."""
    from ingest.indexer import Indexer
    from ingest.sources import estimate_articles

    if not corpus.exists():
        raise InputError(f"No corpus at {corpus}; pass --corpus a folder or file of articles.")
    pipeline = build_pipeline(settings)
    indexer = Indexer(settings, pipeline.embedder, pipeline.store, pipeline.lexical)
    bar = _bar(estimate_articles([corpus]) or None, "ingest", quiet, " articles")
    try:
        report = indexer.run([corpus], prune=True, progress=lambda articles, _chunks: bar.update(articles - bar.n))
    finally:
        bar.close()
    if not report.accepted:
        reasons = "; ".join(f"{r.where}: {r.reason}" for r in report.rejected[:3])
        raise InputError(f"Nothing in {corpus} could be ingested ({reasons or 'no articles found'}).")
    return {**report.as_dict(), "rejected": len(report.rejected), "notes": len(report.notes)}


def _ranking(pipeline: Pipeline, question: Question, asked: str) -> list[tuple[str, str]]:
    # Recall@10 needs ten passages, more than the answerer is given; ask for them separately. The date goes
    # along when retrieve() takes it, so time-aware retrieval is scored the way the answer used it.
    kwargs: dict[str, Any] = {}
    if question.asked_on and "asked_on" in inspect.signature(pipeline.retrieve).parameters:
        kwargs["asked_on"] = question.asked_on
    passages = pipeline.retrieve(asked, k=DEPTH, **kwargs)
    return [(p.chunk.article_id, p.chunk.url) for p in passages]


def _citations(answer: Answer, pipeline: Pipeline, texts: dict[str, str | None]) -> list[dict[str, Any]]:
    rows = []
    for c in answer.citations:
        if c.article_id not in texts:
            article = pipeline.store.get_article(c.article_id)
            texts[c.article_id] = article.text if article else None
        rows.append({
            "n": c.n, "article_id": c.article_id, "url": c.url, "quote": c.quote, "start": c.start, "end": c.end,
            "valid": citation_valid(c.quote, c.start, c.end, texts[c.article_id]),
        })
    return rows


def ask_newsdesk(pipeline: Pipeline, questions: list[Question], quiet: bool = False) -> list[Row]:
    """Rows for newsdesk: ``Pipeline.answer`` (with the question's date) per question, scored. A turn of a
    conversation is asked with the conversation so far (its questions and newsdesk's answers) as history."""
    rows: list[Row] = []
    texts: dict[str, str | None] = {}
    said: dict[str, list[tuple[str, str]]] = {}
    with _bar(len(questions), "newsdesk", quiet, " q") as bar:
        for question in questions:
            started = time.perf_counter()
            try:
                history = said.setdefault(question.conversation, []) if question.conversation else []
                answer = pipeline.answer(question.question, history=list(history), asked_on=question.asked_on or None)
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
                retrieved=_ranking(pipeline, question, answer.standalone_question or question.question),
                citations=_citations(answer, pipeline, texts),
                verdicts=[c.verdict for c in answer.checks],
                retrieve_ms=timings.get("condense", 0.0) + timings.get("retrieve", 0.0),
                generate_ms=timings.get("answer", 0.0), total_ms=timings.get("total", wall),
                warnings=answer.warnings,
            ))
            bar.update()
    return rows


def ask_baseline(pipeline: Pipeline, questions: list[Question],
                 quiet: bool = False) -> tuple[list[Row], dict[str, Any]]:
    """Rows for the baseline over the same stored articles, and what building its index cost."""
    baseline = Baseline(pipeline.store, pipeline.embedder, pipeline.settings.data_dir / "baseline")
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


def run_eval(settings: Settings, questions: list[Question], *, corpus: Path | None = None,
             store_dir: Path | None = None, baseline: bool = False, quiet: bool = False,
             meta: dict[str, Any] | None = None) -> EvalRun:
    """Ingest ``corpus`` into ``store_dir`` if given, ask every question, score; the report is not written."""
    info: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_questions": len(questions),
        "cpu_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "asked_on_passed": any(q.asked_on for q in questions),
    }
    if corpus is not None:
        if store_dir is None:
            raise InputError("A corpus needs a store folder to ingest into.")
        # The eval's own embedded store: a Chroma server set in the environment is the user's, not ours.
        settings = settings.model_copy(update={"data_dir": store_dir, "chroma_url": None})
        info["corpus"] = shown_path(corpus)
        info["ingest"] = ingest_corpus(settings, corpus, quiet)
    pipeline = build_pipeline(settings)
    status = pipeline.status()
    info.update(store=shown_path(status.store) if not settings.chroma_url else status.store,
                articles=status.articles, chunks=status.chunks, embedder=status.embedder,
                chunking=status.chunking, answer_mode=status.answer_mode, k=settings.k)
    info.update(meta or {})  # the caller's display values (relative paths, titles) win
    ours = SystemResult("newsdesk", status.answer_mode, ask_newsdesk(pipeline, questions, quiet))
    run = EvalRun(info, ours)
    if baseline:
        rows, built = ask_baseline(pipeline, questions, quiet)
        info["baseline_index"] = built
        run.baseline = SystemResult("baseline", BASELINE_DESCRIPTION, rows)
    return run


def main(args: argparse.Namespace, settings: Settings) -> int:
    """The `newsdesk eval` command (rag/cli.py hands over here)."""
    from eval.report import summary_text, write_reports

    if args.limit is not None and args.limit < 1:
        raise InputError("--limit must be 1 or more.")
    questions_path = Path(args.questions)
    questions = load_questions(questions_path, args.limit)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    report_dir = Path(args.report) if args.report else settings.data_dir / "reports" / stamp
    corpus = Path(args.corpus) if args.corpus else None
    run = run_eval(settings, questions, corpus=corpus, store_dir=report_dir / "store" if corpus else None,
                   baseline=args.baseline, quiet=args.quiet,
                   meta={"questions": shown_path(questions_path), "limit": args.limit})
    json_path, md_path = write_reports(run, report_dir)
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
