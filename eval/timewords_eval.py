"""Answer and retrieval accuracy on the time-word question set, with and without reading time words.

    python -m eval.timewords_eval --data ../shared/data/realtimeqa-2022 ../shared/data/realtimeqa-2023

The store holds only what the questions need, from the RealTime QA article files in ``--data``: every
question's sources, and as distractors every article on the same running stories (weekly mortgage rates, Fed
decisions, inflation reports, gas prices: chosen by URL, so the same story from other weeks competes). It is
built once in ``--store`` (default ``<data_dir>/timewords``; re-runs embed nothing) and both runs read it:
``NEWSDESK_TIME_WORDS=false`` (the date prior only, as before) and ``true``.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from eval.questions import load_questions
from eval.runner import eval_settings, run_eval
from ingest.service import build_service
from rag.settings import Settings
from rag.timewords import parse

QUESTIONS = Path(__file__).resolve().parent / "questions" / "timewords.jsonl"
# Same running stories as the questions, so other weeks' coverage competes with the right week's.
DISTRACTORS = re.compile(
    r"(mortgage-rate|federal-reserve|/fed-|interest-rate|cpi|inflation|gas-prices|consumer-prices)", re.I
)


def build_corpus(data_dirs: list[Path], sources: set[str], out: Path) -> int:
    """Write the needed articles (sources + same-story distractors, deduplicated by URL) to ``out``."""
    seen: set[str] = set()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as sink:
        for folder in data_dirs:
            for line in (folder / "articles.jsonl").open(encoding="utf-8"):
                article = json.loads(line)
                url = article.get("url", "")
                if url in seen or not (url in sources or DISTRACTORS.search(url)):
                    continue
                seen.add(url)
                sink.write(line if line.endswith("\n") else line + "\n")
    missing = sources - seen
    if missing:
        raise SystemExit(f"{len(missing)} source articles are not in --data (e.g. {sorted(missing)[0]}).")
    return len(seen)


def kind(question: str, asked_on: str) -> str:
    """The question's kind of time words, for the per-kind table ("none", "latest", or the phrase's shape)."""
    words = parse(question, asked_on)
    if words.no_time_words:
        return "none"
    if not words.has_range:
        return "latest"
    phrase = words.phrase.lower()
    for name in ("this week", "last week", "this month"):
        if name in phrase:
            return name
    return "month/day/year"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, nargs="+", required=True, help="RealTime QA folders (articles.jsonl)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--store", type=Path, help="where the small store goes (default <data_dir>/timewords)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = parser.parse_args(argv)
    base = Settings(answer_mode="extractive")
    root = args.store or base.data_dir / "timewords"
    questions = load_questions(args.questions)
    corpus = root / "articles.jsonl"
    n_articles = build_corpus(args.data, {s for q in questions for s in q.sources}, corpus)
    results: dict[str, Any] = {"articles": n_articles, "questions": len(questions)}
    for name, on in (("without", False), ("with", True)):
        # This script is its own small edge (like eval/benchmark.py): it builds the service the runner is handed.
        service = build_service(eval_settings(base.model_copy(update={"time_words": on}), root / "store"))
        run = run_eval(service, questions, corpus=corpus, quiet=True)
        by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # correct, gold ranked first, questions
        for question, row in zip(questions, run.ours.rows, strict=True):
            tally = by_kind[kind(question.question, question.asked_on)]
            tally[0] += row.correct
            tally[1] += row.rank == 1
            tally[2] += 1
        summary = run.ours.summary
        results[name] = {
            "answer_accuracy": summary["answer_accuracy"], "recall_at_1": summary["recall_at_1"],
            "recall_at_5": summary["recall_at_5"], "mrr_at_10": summary["mrr_at_10"],
            "correct_by_kind": {k: f"{c}/{n}" for k, (c, _, n) in sorted(by_kind.items())},
            "first_by_kind": {k: f"{f}/{n}" for k, (_, f, n) in sorted(by_kind.items())},
            "wrong": [row.id for row in run.ours.rows if not row.correct],
        }
    print(json.dumps(results, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
