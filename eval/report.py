"""Eval reports: report.json (the data) and report.md (a summary table beside the baseline, failures first)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.metrics import Row
from eval.results import EvalRun

# (summary key, label, kind): the rows of every summary table, in reading order.
METRICS: tuple[tuple[str, str, str], ...] = (
    ("n_questions", "questions", "count"),
    ("answer_accuracy", "answer accuracy (answerable)", "share"),
    ("refusal_accuracy", "refusal accuracy (unanswerable)", "share"),
    ("false_refusals", "false refusals (share of answerable)", "share"),
    ("first_turn_accuracy", "conversations: first-turn accuracy", "share"),
    ("followup_accuracy", "conversations: follow-up accuracy", "share"),
    ("recall_at_1", "Recall@1", "share"),
    ("recall_at_5", "Recall@5", "share"),
    ("recall_at_10", "Recall@10", "share"),
    ("mrr_at_10", "MRR@10", "share"),
    ("citation_validity", "citation validity", "share"),
    ("grounded_sentences", "grounded sentences", "share"),
    ("unsupported_sentences", "unsupported sentences", "share"),
    ("p50_ms", "latency p50 (ms)", "ms"),
    ("p95_ms", "latency p95 (ms)", "ms"),
    ("retrieval_p50_ms", "retrieval p50 (ms)", "ms"),
    ("retrieval_p95_ms", "retrieval p95 (ms)", "ms"),
    ("generation_p50_ms", "generation p50 (ms)", "ms"),
    ("generation_p95_ms", "generation p95 (ms)", "ms"),
    ("answer_chars_p50", "answer length p50 (chars)", "ms"),
    ("errors", "questions that failed", "count"),
)


def fmt(value: Any, kind: str) -> str:
    """A summary value for a table; ``—`` where the metric does not apply.

    >>> fmt(0.8333, "share"), fmt(None, "share"), fmt(12.34, "ms"), fmt(0.52, "ms"), fmt(3, "count")
    ('83.3%', '—', '12', '0.5', '3')
    """
    if value is None:
        return "—"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "ms":
        return f"{value:.1f}" if value < 10 else f"{value:,.0f}"
    return str(value)


def summary_text(run: EvalRun) -> str:
    """The summary as aligned plain-text columns, for the terminal."""
    systems = [run.ours] + ([run.baseline] if run.baseline else [])
    lines = [f"{'metric':<38}" + "".join(f"{s.name:>12}" for s in systems)]
    for key, label, kind in METRICS:
        lines.append(f"{label:<38}" + "".join(f"{fmt(s.summary.get(key), kind):>12}" for s in systems))
    return "\n".join(lines)


def _cell(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|") or " "


def why_failed(row: Row) -> str:
    """A short label for what went wrong with a row (empty for a correct one)."""
    if row.correct:
        return ""
    if row.error:
        return "error"
    if not row.answerable:
        return "answered an unanswerable question"
    if row.refused:
        return "false refusal" + (" (source not retrieved)" if row.sources and row.rank is None else "")
    if row.sources and row.rank is None:
        return "wrong answer (source not in top 10)"
    return "wrong answer (source retrieved)" if row.sources else "wrong answer"


def _meta_lines(meta: dict[str, Any]) -> list[str]:
    shown = [("date", "created_at"), ("questions", "questions"), ("corpus", "corpus"), ("store", "store"),
             ("articles / chunks", None), ("answer mode", "answer_mode"), ("embedder", "embedder"),
             ("chunking", "chunking"), ("k", "k"), ("machine", "machine"), ("CPU cores", "cpu_cores"),
             ("git commit", "git_commit"), ("question limit", "limit")]
    lines = []
    for label, key in shown:
        value = f"{meta.get('articles')} / {meta.get('chunks')}" if key is None else meta.get(key)
        if value not in (None, ""):
            lines.append(f"- **{label}**: {value}")
    ingest = meta.get("ingest")
    if isinstance(ingest, dict):
        lines.append(f"- **ingest**: {ingest.get('added', 0)} added, {ingest.get('updated', 0)} updated, "
                     f"{ingest.get('unchanged', 0)} unchanged, {ingest.get('rejected', 0)} rejected "
                     f"(empty or unreadable), {ingest.get('chunks_embedded', 0)} chunks embedded")
    built = meta.get("baseline_index")
    if isinstance(built, dict):
        lines.append(f"- **baseline index**: {built.get('chunks')} chunks, "
                     + ("reused" if built.get("reused") else f"{built.get('embedded')} embedded"))
    if meta.get("asked_on_passed"):
        lines.append("- **question dates**: each question's `asked_on` is passed to `Pipeline.answer`")
    for note in meta.get("notes", []):
        lines.append(f"- {note}")
    return lines


def markdown(run: EvalRun) -> str:
    """report.md: what ran, the summary table (baseline beside ours), then every question, failures first."""
    title = run.meta.get("title") or f"newsdesk eval — {run.meta.get('questions', 'questions')}"
    out = [f"# {title}", "", *_meta_lines(run.meta), ""]
    if run.baseline:
        out += [f"Baseline: {run.baseline.description}.", ""]
    systems = [run.ours] + ([run.baseline] if run.baseline else [])
    out += ["## Summary", "", "| metric | " + " | ".join(s.name for s in systems) + " |",
            "|---|" + "---:|" * len(systems)]
    for key, label, kind in METRICS:
        out.append(f"| {label} | " + " | ".join(fmt(s.summary.get(key), kind) for s in systems) + " |")
    out += ["", "Scoring rules: eval/README.md.", ""]

    other = {r.id: r for r in run.baseline.rows} if run.baseline else {}
    failures = [r for r in run.ours.rows if not r.correct]
    passed = [r for r in run.ours.rows if r.correct]
    sections = ((f"Failures ({len(failures)})", failures, True), (f"Correct ({len(passed)})", passed, False))
    for heading, rows, with_why in sections:
        out += [f"## {heading}", ""]
        if not rows:
            out += ["None.", ""]
            continue
        columns = ["id", "question", "expected", "newsdesk answer", *(["why"] if with_why else []), "source rank",
                   *(["baseline"] if other else [])]
        align = ["---:" if c == "source rank" else "---" for c in columns]
        out += ["| " + " | ".join(columns) + " |", "|" + "|".join(align) + "|"]
        for row in rows:
            expected = "(unanswerable: refuse)" if not row.answerable else (
                row.reference + (f" [keywords: {', '.join(row.keywords)}]" if row.keywords else ""))
            cells = [row.id, _cell(row.question, 160), _cell(expected, 160),
                     _cell("ERROR: " + row.error if row.error else row.answer)]
            if with_why:
                cells.append(why_failed(row))
            cells.append(str(row.rank) if row.rank else ("—" if not row.sources else "miss"))
            if other:
                base = other.get(row.id)
                cells.append("—" if base is None else ("✓" if base.correct else "✗") + f" (rank {base.rank or '—'})")
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def report_data(run: EvalRun) -> dict[str, Any]:
    """report.json's content."""
    data: dict[str, Any] = {
        "meta": run.meta,
        "summary": run.ours.summary,
        "system": {"name": run.ours.name, "description": run.ours.description},
        "rows": [r.as_dict() for r in run.ours.rows],
        "baseline": None,
    }
    if run.baseline:
        data["baseline"] = {"description": run.baseline.description, "summary": run.baseline.summary,
                            "rows": [r.as_dict() for r in run.baseline.rows]}
    return data


def write_reports(run: EvalRun, report_dir: Path) -> tuple[Path, Path]:
    """Write report.json and report.md into ``report_dir`` (created if needed); their paths."""
    report_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = report_dir / "report.json", report_dir / "report.md"
    json_path.write_text(json.dumps(report_data(run), indent=1, ensure_ascii=False) + "\n", "utf-8")
    md_path.write_text(markdown(run), "utf-8")
    return json_path, md_path
