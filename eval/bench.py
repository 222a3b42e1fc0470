"""Speed benchmarks (`make bench`): one table, each number beside its reference, measured in the same run.

- ingest throughput ÷ raw embedder throughput, over the same chunk texts (target ≥ 0.85)
- re-ingest of the unchanged corpus ÷ first ingest (target ≤ 0.02)
- retrieval and warm offline-answer latency, p50/p95 (targets ≤ 100 ms / ≤ 250 ms p50 on the full corpus)
- resident memory of a process that has built the pipeline and answered (the page's working set)

    python -m eval.bench                                   # a fresh store over a sample of articles
    python -m eval.bench --store .newsdesk/bench/full      # latency and RSS on an existing (full) store
    NEWSDESK_CHROMA_URL=http://127.0.0.1:8000 python -m eval.bench --store DIR   # the same through a server

The ingest sample always goes to an embedded store in a temporary folder; latency and RSS use the store your
settings name (``--store`` as the data dir, ``NEWSDESK_CHROMA_URL`` when set).

Writes ``docs/benchmarks/speed-<date>.json`` and ``.md`` with date, cores and commit unless ``--no-save``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.benchmark import REPO, default_data_dir, git_commit
from eval.metrics import percentile
from ingest.chunking import chunk_article
from ingest.service import Newsdesk, build_service
from ingest.sources import Rejected, read_paths
from rag.records import Article, indexed_text
from rag.settings import Settings

WARM_CHUNKS = 64  # chunks embedded before either ingest timing starts
WARMUP = 20  # questions answered before timing; the timed ones are different questions


def _sample(source: Path, articles: int, into: Path) -> Path:
    """The first ``articles`` non-empty articles of a JSONL file, as a JSONL file of their own."""
    out = into / "sample.jsonl"
    kept = 0
    with source.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for line in src:
            if kept >= articles:
                break
            record = json.loads(line)
            if str(record.get("text", "")).strip():
                dst.write(line)
                kept += 1
    return out


def _percentiles(values: list[float]) -> tuple[float, float]:
    p50, p95 = percentile(values, 50), percentile(values, 95)
    assert p50 is not None and p95 is not None, "no timings"
    return p50, p95


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_ingest(sample: Path, data_dir: Path) -> dict[str, Any]:
    """First ingest, re-ingest, and the raw embedder over exactly the chunks the ingest embedded."""
    # Always an embedded store in a temporary folder: the sample must never land in a real (server) collection.
    service = build_service(Settings(data_dir=data_dir, chroma_url=None))
    pipeline = service.pipeline  # the raw embedder is timed against the ingest
    articles = [a for a in read_paths([sample]) if isinstance(a, Article)]
    texts = [
        indexed_text(c.title, c.text)
        for a in articles
        for c in chunk_article(
            a, pipeline.settings.chunk_tokens, pipeline.settings.chunk_overlap, pipeline.embedder.fits
        )
    ]
    # Both timings start warm: Chroma imported and its store open, the model's first batches run (ONNX sizes its
    # buffers on them). Otherwise the ingest, timed first, would pay start-up costs the raw embedder does not.
    pipeline.store.open_for_writing()
    pipeline.embedder.embed_array(texts[:WARM_CHUNKS])
    first = service.ingest([sample])
    again = service.ingest([sample])

    started = time.perf_counter()
    pipeline.embedder.embed_array(texts)
    raw_seconds = time.perf_counter() - started
    raw_rate = len(texts) / raw_seconds
    ingest_rate = first.chunks_embedded / first.seconds
    return {
        "articles": first.added,
        "rejected": len([r for r in first.rejected if isinstance(r, Rejected)]),
        "chunks": first.chunks_embedded,
        "ingest_seconds": round(first.seconds, 2),
        "ingest_chunks_per_s": round(ingest_rate, 2),
        "raw_embedder_chunks_per_s": round(raw_rate, 2),
        "ingest_over_raw": round(ingest_rate / raw_rate, 3),
        "reingest_seconds": round(again.seconds, 3),
        "reingest_embedded": again.chunks_embedded,
        "reingest_over_first": round(again.seconds / first.seconds, 4),
    }


def bench_queries(service: Newsdesk, warmup: list[str], questions: list[str]) -> dict[str, Any]:
    """Retrieval and end-to-end offline answer latency on ``questions``, after ``warmup`` (other questions)
    has loaded the model, BM25 and the store: warm process, but no question seen before (no cache hits)."""
    for question in warmup:
        service.ask(question)
    retrieval, answers = [], []
    for question in questions:
        t0 = time.perf_counter()
        service.retrieve(question)
        retrieval.append((time.perf_counter() - t0) * 1000)
    service.pipeline.embedder.clear_cache()  # the answers below must embed their questions, as a new one would
    for question in questions:
        t0 = time.perf_counter()
        service.ask(question)
        answers.append((time.perf_counter() - t0) * 1000)
    r50, r95 = _percentiles(retrieval)
    a50, a95 = _percentiles(answers)
    status = service.status()
    articles, chunks = status.articles, status.chunks
    return {
        "store_articles": articles,
        "store_chunks": chunks,
        "questions": len(questions),
        "retrieval_p50_ms": round(r50, 1),
        "retrieval_p95_ms": round(r95, 1),
        "answer_p50_ms": round(a50, 1),
        "answer_p95_ms": round(a95, 1),
        "rss_mb": round(_rss_mb(), 1),
    }


def _questions(data: Path) -> list[str]:
    return [json.loads(line)["question"] for line in (data / "questions.jsonl").read_text("utf-8").splitlines()]


def _table(result: dict[str, Any]) -> str:
    ingest, queries = result["ingest"], result["queries"]
    rows = [
        (
            "ingest ÷ raw embedder throughput",
            f"{ingest['ingest_over_raw']:.3f}",
            "≥ 0.85",
            f"{ingest['ingest_chunks_per_s']} vs {ingest['raw_embedder_chunks_per_s']} chunks/s, "
            f"{ingest['chunks']} chunks",
        ),
        (
            "re-ingest unchanged ÷ first ingest",
            f"{ingest['reingest_over_first']:.4f}",
            "≤ 0.02",
            f"{ingest['reingest_seconds']} s vs {ingest['ingest_seconds']} s, {ingest['reingest_embedded']} embedded",
        ),
        (
            "retrieval p50 / p95",
            f"{queries['retrieval_p50_ms']} / {queries['retrieval_p95_ms']} ms",
            "p50 ≤ 100 ms",
            f"{queries['store_chunks']} chunks indexed",
        ),
        (
            "offline answer p50 / p95 (warm)",
            f"{queries['answer_p50_ms']} / {queries['answer_p95_ms']} ms",
            "p50 ≤ 250 ms",
            f"{queries['questions']} questions",
        ),
        ("process RSS after answering", f"{queries['rss_mb']} MB", "≤ 1 GB (page)", "pipeline + store + BM25 loaded"),
    ]
    lines = ["| measure | value | target | detail |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="RealTime QA folder")
    parser.add_argument("--articles", type=int, default=150, help="sample size for the ingest benchmark")
    parser.add_argument("--corpus", type=Path, help="ingest this JSONL whole instead of a sample of articles.jsonl")
    parser.add_argument("--store", type=Path, help="existing data dir for latency/RSS (default: the sample's)")
    parser.add_argument("--questions", type=int, default=100, help="questions timed (after 20 warm-up ones)")
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args()

    questions = _questions(args.data)
    warmup, measured = questions[:WARMUP], questions[WARMUP : WARMUP + args.questions]
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as tmp:
        sample = args.corpus or _sample(args.data / "articles.jsonl", args.articles, Path(tmp))
        if args.store:  # first, so the RSS is that of a process holding only the store it answers from
            queries = bench_queries(build_service(Settings(data_dir=args.store)), warmup, measured)
        ingest = bench_ingest(sample, Path(tmp) / "data")
        if not args.store:
            queries = bench_queries(build_service(Settings(data_dir=Path(tmp) / "data")), warmup, measured)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "commit": git_commit(),
        "ingest_corpus": args.corpus.name if args.corpus else f"first {args.articles} articles of articles.jsonl",
        "latency_store": ("full corpus" if args.store else "the ingested sample")
        + (" via Chroma server" if os.environ.get("NEWSDESK_CHROMA_URL") else ""),
        "ingest": ingest,
        "queries": queries,
    }
    table = _table(result)
    print(table)
    if not args.no_save:
        out = REPO / "docs" / "benchmarks"
        out.mkdir(parents=True, exist_ok=True)
        stem = f"speed-{str(result['date'])[:10]}"
        (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
        command = "python -m eval.bench" + (f" --corpus {args.corpus.name}" if args.corpus else "")
        command += " --store <full store>" if args.store else ""
        header = (
            f"# Speed benchmark {result['date']}\n\n{result['cores']} cores, {result['machine']}, "
            f"Python {result['python']}, commit {result['commit']}. Ingest over {result['ingest_corpus']}; "
            f"latency over the {result['latency_store']}. Command: `{command}`.\n\n"
        )
        (out / f"{stem}.md").write_text(header + table + "\n", "utf-8")
        print(f"saved docs/benchmarks/{stem}.md")


if __name__ == "__main__":
    main()
