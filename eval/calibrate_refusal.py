"""Calibrate the extractive answerer's refusal threshold on questions with known answerability.

Answerable: RealTime QA questions over a store that holds their gold articles. Unanswerable, two kinds:
(1) the same questions with every passage of their gold articles removed from what the answerer sees (a
near-miss: same news week, same words, no answer) and (2) hand-written unanswerable questions of a question
set (``answerable: false``). Prints the best-sentence score distribution and a threshold sweep.

    NEWSDESK_DATA_DIR=.newsdesk/bench/gold python -m eval.calibrate_refusal \\
        --questions ../shared/data/realtimeqa-2022/questions.jsonl --extra eval/questions/bundled.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from urllib.parse import urlparse

from rag.pipeline import LEAD_PASSAGES, Pipeline, build_pipeline
from rag.records import Passage
from rag.settings import Settings


def _norm(url: str) -> str:
    parsed = urlparse(url.split("#", 1)[0])
    return (parsed.netloc.lower().removeprefix("www.") + parsed.path.rstrip("/")) if parsed.netloc else url


def _best(pipeline: Pipeline, question: str, passages: list[Passage]) -> float:
    ranked = pipeline.extractive.score(question, passages)
    return ranked[0].score if ranked else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, required=True, help="RealTime QA questions.jsonl (with sources)")
    parser.add_argument("--extra", type=Path, action="append", default=[], help="question sets with answerable flags")
    parser.add_argument("--extra-data-dir", type=Path, help="data dir holding the extra sets' corpus")
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()

    pipeline = build_pipeline(Settings())
    positives: list[float] = []
    negatives: list[float] = []
    for line in args.questions.read_text("utf-8").splitlines():
        q = json.loads(line)
        gold = {_norm(s) for s in q.get("sources", [])}
        # The passages the answer path reads (its ranking, the lead article read deeper), without the question's
        # date: undated, the gold-less list holds the articles closest in content, the hardest near-misses.
        read = args.k + LEAD_PASSAGES - 1
        wide = pipeline.retrieve(q["question"], k=args.k * 6, lead_passages=LEAD_PASSAGES)
        with_gold = wide[:read]
        without = [p for p in wide if _norm(p.chunk.url or p.chunk.article_id) not in gold][:read]
        if any(_norm(p.chunk.url or p.chunk.article_id) in gold for p in with_gold):
            positives.append(_best(pipeline, q["question"], with_gold))
        negatives.append(_best(pipeline, q["question"], without))
    extra_neg: list[float] = []
    extra_pos: list[float] = []
    if args.extra:
        other = build_pipeline(Settings(data_dir=args.extra_data_dir)) if args.extra_data_dir else pipeline
        for path in args.extra:
            for line in path.read_text("utf-8").splitlines():
                q = json.loads(line)
                passages = other.retrieve(q["question"], k=args.k, lead_passages=LEAD_PASSAGES)
                score = _best(other, q["question"], passages)
                (extra_pos if q.get("answerable", True) else extra_neg).append(score)

    pos, neg = positives + extra_pos, negatives + extra_neg
    print(f"answerable: {len(pos)} (RTQA gold retrieved: {len(positives)}, extra: {len(extra_pos)})")
    print(f"unanswerable: {len(neg)} (RTQA gold removed: {len(negatives)}, extra: {len(extra_neg)})")
    print("threshold  answered(answerable)  refused(unanswerable)  balanced")
    best = (0.0, 0.0)
    for step in range(20, 61):
        t = step / 100
        tpr = sum(s >= t for s in pos) / max(len(pos), 1)
        tnr = sum(s < t for s in neg) / max(len(neg), 1)
        extra_tnr = sum(s < t for s in extra_neg) / max(len(extra_neg), 1)
        balanced = (tpr + tnr) / 2
        best = max(best, (balanced, t))
        print(f"{t:.2f}       {tpr:.3f}                {tnr:.3f} (hand-written {extra_tnr:.3f})   {balanced:.3f}")
    print(f"best balanced accuracy {best[0]:.3f} at threshold {best[1]:.2f}")


if __name__ == "__main__":
    main()
