"""Calibrate the sentence verifier (``rag.verify``) on the labelled pairs in ``pairs.jsonl``.

Every pair is one answer sentence citing one passage ``[1]``, labelled ``supported`` or ``unsupported`` with
the kind of change that was made. A third of the passages (every third group, so no passage is on both
sides) is held out; the thresholds are chosen on the rest and then reported on both:

- ``unsupported`` threshold: the one with the best training F1 for catching ``unsupported`` sentences among
  those that meet the target (recall >= 0.9 at precision >= 0.8), or, when none does, among those with
  precision >= 0.8;
- ``supported`` threshold: the lowest one, not below the first, at which at most 5% of the training
  ``unsupported`` pairs would be marked supported (a rate, unlike precision, that does not depend on how many
  invented sentences an answer holds); between the two thresholds a sentence is ``weak``.

Pairs drawn from RealTime QA hold a reference (article id, offsets, sha256) instead of the passage, which is
read from the data folder at run time (``eval/verification/pairs.py``; ``--rtqa DIR``, else
``$NEWSDESK_RTQA_DIR``, else ``../shared/data/realtimeqa-2022``).

    python -m eval.verification.calibrate [--pairs FILE] [--rtqa DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.verification.pairs import load_pairs
from rag.embedder import MiniLMEmbedder
from rag.errors import NewsdeskError
from rag.records import Chunk, Passage
from rag.verify import DEFAULT_THRESHOLDS, Thresholds, verdict, verify

HERE = Path(__file__).resolve().parent
TARGET_RECALL, TARGET_PRECISION, FALSE_SUPPORT = 0.9, 0.8, 0.05
GRID = [step / 100 for step in range(0, 101)]


def held_out(pair: dict[str, Any]) -> bool:
    """Whether the pair is in the held-out third (by passage group, so no passage leaks across)."""
    return int(pair["group"]) % 3 == 2


def score_pairs(pairs: Sequence[dict[str, Any]], embedder: MiniLMEmbedder) -> list[float]:
    """The verifier's score for each pair: its sentence cites the pair's passage as ``[1]``.

    If the answer splitter cuts a sentence in two, the pair counts as its weakest part.
    """
    scores = []
    for pair in pairs:
        text = pair["passage"]
        chunk = Chunk(id=f"pair-{pair['id']}", article_id=pair["source"], position=0, text=text, start=0,
                      end=len(text))
        checks = verify(f"{pair['sentence']} [1]", [Passage(chunk)], embedder)
        scores.append(min((c.score for c in checks), default=0.0))
    return scores


def unsupported_metrics(labels: Sequence[str], scores: Sequence[float], threshold: float) -> dict[str, Any]:
    """Precision, recall and F1 of "score < threshold" as the detector of ``unsupported`` sentences.

    >>> unsupported_metrics(["unsupported", "supported", "unsupported"], [0.2, 0.3, 0.9], 0.5)["recall"]
    0.5
    """
    tp = sum(s < threshold and y == "unsupported" for y, s in zip(labels, scores, strict=True))
    fp = sum(s < threshold and y == "supported" for y, s in zip(labels, scores, strict=True))
    fn = sum(s >= threshold and y == "unsupported" for y, s in zip(labels, scores, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": threshold, "precision": round(precision, 3), "recall": round(recall, 3),
            "f1": round(f1, 3), "tp": tp, "fp": fp, "fn": fn}


def choose(labels: Sequence[str], scores: Sequence[float]) -> Thresholds:
    """The thresholds the module docstring describes, chosen on ``labels``/``scores``."""
    rows = [unsupported_metrics(labels, scores, t) for t in GRID]
    fit = ([r for r in rows if r["precision"] >= TARGET_PRECISION and r["recall"] >= TARGET_RECALL]
           or [r for r in rows if r["precision"] >= TARGET_PRECISION and r["tp"]] or rows)
    low = max(fit, key=lambda r: (r["f1"], r["recall"]))["threshold"]
    invented = [s for y, s in zip(labels, scores, strict=True) if y == "unsupported"]
    high = next((t for t in GRID if t >= low and sum(s >= t for s in invented) <= FALSE_SUPPORT * len(invented)),
                GRID[-1])
    return Thresholds(supported=high, unsupported=low)


def evaluate(pairs: Sequence[dict[str, Any]], scores: Sequence[float], thresholds: Thresholds) -> dict[str, Any]:
    """Metrics, the label × verdict confusion, and per-kind verdict counts for one split."""
    labels = [p["label"] for p in pairs]
    verdicts = [verdict(s, thresholds) for s in scores]
    confusion = Counter(f"{y}->{v}" for y, v in zip(labels, verdicts, strict=True))
    kinds: dict[str, Counter[str]] = {}
    for pair, v in zip(pairs, verdicts, strict=True):
        kinds.setdefault(f"{pair['label']}/{pair['kind']}", Counter())[v] += 1
    flagged = unsupported_metrics(labels, scores, thresholds.supported)  # weak counted as flagged too
    return {
        "pairs": len(pairs),
        "unsupported": unsupported_metrics(labels, scores, thresholds.unsupported),
        "flagged_weak_or_unsupported": flagged,
        "confusion": dict(sorted(confusion.items())),
        "by_kind": {k: dict(sorted(c.items())) for k, c in sorted(kinds.items())},
        "missed_unsupported": [p["id"] for p, v in zip(pairs, verdicts, strict=True)
                               if p["label"] == "unsupported" and v != "unsupported"],
        "supported_marked_unsupported": [p["id"] for p, v in zip(pairs, verdicts, strict=True)
                                         if p["label"] == "supported" and v == "unsupported"],
    }


def _print_split(name: str, result: dict[str, Any]) -> None:
    u, f = result["unsupported"], result["flagged_weak_or_unsupported"]
    print(f"\n{name}: {result['pairs']} pairs")
    print(f"  unsupported verdict:        precision {u['precision']:.3f}  recall {u['recall']:.3f}  F1 {u['f1']:.3f}")
    print(f"  weak or unsupported (flag): precision {f['precision']:.3f}  recall {f['recall']:.3f}  F1 {f['f1']:.3f}")
    print("  confusion (label -> verdict): " + ", ".join(f"{k} {v}" for k, v in result["confusion"].items()))
    for kind, counts in result["by_kind"].items():
        print(f"    {kind:<28} " + "  ".join(f"{v} {n}" for v, n in counts.items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, default=HERE / "pairs.jsonl", help="labelled pairs (JSONL)")
    parser.add_argument("--rtqa", type=Path, default=None,
                        help="the realtimeqa-2022 folder (default $NEWSDESK_RTQA_DIR, else "
                        "../shared/data/realtimeqa-2022)")
    parser.add_argument("--out", type=Path, default=HERE / "results.json", help="where the results JSON goes")
    args = parser.parse_args(argv)

    try:
        pairs = load_pairs(args.pairs, args.rtqa)
    except NewsdeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    scores = score_pairs(pairs, MiniLMEmbedder())
    train = [i for i, p in enumerate(pairs) if not held_out(p)]
    test = [i for i, p in enumerate(pairs) if held_out(p)]
    train_labels = [pairs[i]["label"] for i in train]
    train_scores = [scores[i] for i in train]

    print(f"{len(pairs)} pairs: {len(train)} for choosing, {len(test)} held out")
    print("threshold  precision  recall  F1     (unsupported = score below threshold, training pairs)")
    for t in GRID[20:81:2]:
        r = unsupported_metrics(train_labels, train_scores, t)
        print(f"{t:.2f}       {r['precision']:.3f}      {r['recall']:.3f}   {r['f1']:.3f}")
    chosen = choose(train_labels, train_scores)
    print(f"\nchosen: unsupported below {chosen.unsupported:.2f}, supported from {chosen.supported:.2f} "
          f"(defaults in rag/verify.py: {DEFAULT_THRESHOLDS.unsupported:.2f} / {DEFAULT_THRESHOLDS.supported:.2f})")
    results: dict[str, Any] = {
        "thresholds": {"unsupported": chosen.unsupported, "supported": chosen.supported},
        "defaults_match": chosen == DEFAULT_THRESHOLDS,
        "target": {"recall": TARGET_RECALL, "precision": TARGET_PRECISION},
        "split": "held out: passage groups with group % 3 == 2",
    }
    for name, indices in (("train", train), ("held_out", test), ("all", list(range(len(pairs))))):
        result = evaluate([pairs[i] for i in indices], [scores[i] for i in indices], chosen)
        caught = result["unsupported"]
        met = caught["recall"] >= TARGET_RECALL and caught["precision"] >= TARGET_PRECISION
        result["target_met"] = met
        results[name] = result
        _print_split(f"{name} (target {'met' if met else 'NOT met'})", result)
    results["scores"] = {p["id"]: round(s, 4) for p, s in zip(pairs, scores, strict=True)}
    args.out.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
