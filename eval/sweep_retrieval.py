"""Do the retrieval choices tuned on RealTime QA 2022 hold on 2023? Recall@1/5/10 and MRR@10 per setting.

Each tuned value (the date prior's weight, the headline list's weight, the fusion constant, the over-fetch) is
varied one at a time around today's value, on a store per data set, with the question's date passed as the
answer path passes it. Fit on 2023; the 2022 rows only report what the same change does on the benchmark.

    python -m eval.sweep_retrieval --set 2023=.newsdesk/rtqa2023-gold:../shared/data/realtimeqa-2023 \\
        --set 2022=.newsdesk/bench/gold:../shared/data/realtimeqa-2022
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eval.fit_selector import training_questions
from eval.metrics import DEPTH, first_relevant_rank, recall_at, reciprocal_rank
from eval.questions import Question
from rag.pipeline import Pipeline, build_pipeline
from rag.retrieval.adjusters import DatePrior, DatePriorConfig, TitleBonus, TitleBonusConfig
from rag.retrieval.hybrid import HybridRetriever, default_stages
from rag.settings import Settings

# (name, values tried); today's value is among them
KNOBS: tuple[tuple[str, tuple[float, ...]], ...] = (
    ("date_weight", (0.0, 0.01, 0.02, 0.04, 0.06, 0.08)),
    ("title_weight", (0.0, 0.25, 0.5, 0.75, 1.0)),
    ("rrf_k", (20, 40, 60, 100)),
    ("fetch_factor", (4, 8, 12)),
)


@contextmanager
def knob(pipeline: Pipeline, name: str, value: float) -> Iterator[None]:
    """``pipeline`` with one tuned value changed (its retrieval stages rebuilt), restored afterwards."""
    retriever = pipeline.retriever
    if not isinstance(retriever, HybridRetriever):
        raise TypeError("the sweep varies the stages of newsdesk's own HybridRetriever")
    old_settings, old_stages = retriever.settings, retriever.stages
    settings = old_settings.model_copy(update={name: int(value)}) if name in ("rrf_k", "fetch_factor") else old_settings
    stages = default_stages(settings, pipeline.store)
    if name == "date_weight":
        stages = [DatePrior(DatePriorConfig(weight=value)) if isinstance(s, DatePrior) else s for s in stages]
    if name == "title_weight":
        config = TitleBonusConfig(weight=value, rrf_k=settings.rrf_k)
        stages = [TitleBonus(config) if isinstance(s, TitleBonus) else s for s in stages]
    retriever.settings, retriever.stages = settings, stages
    try:
        yield
    finally:
        retriever.settings, retriever.stages = old_settings, old_stages


def scores(pipeline: Pipeline, questions: list[Question]) -> dict[str, float]:
    """Recall@1/5/10 and MRR@10 over the questions with sources."""
    ranks: list[int | None] = []
    for q in questions:
        passages = pipeline.retrieve(q.question, k=DEPTH, asked_on=q.asked_on or None)
        ranks.append(first_relevant_rank([(p.chunk.article_id, p.chunk.url) for p in passages], q.sources))
    n = len(ranks)
    out = {f"R@{k}": sum(recall_at(r, k) for r in ranks) / n for k in (1, 5, 10)}
    out["MRR"] = sum(reciprocal_rank(r) for r in ranks) / n
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.sweep_retrieval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", required=True, metavar="NAME=STORE:DATA",
                        help="a data set: its store (data dir) and its folder with questions.jsonl")
    args = parser.parse_args(argv)
    sets: list[tuple[str, Pipeline, list[Question]]] = []
    for spec in args.set:
        name, _, rest = spec.partition("=")
        store, _, data = rest.partition(":")
        # The 2023 file repeats two ids; the training loader renames the repeats instead of refusing the file.
        questions = [q for q in training_questions(Path(data) / "questions.jsonl") if q.answerable and q.sources]
        sets.append((name, build_pipeline(Settings(data_dir=Path(store), chroma_url=None)), questions))
    header = "knob            value   " + "  ".join(f"{n}: R@1   R@5   R@10  MRR  " for n, _, _ in sets)
    print(header)
    results: dict[tuple[str, float, str], dict[str, float]] = {}
    for name, values in KNOBS:
        for value in values:
            row = []
            for set_name, pipeline, questions in sets:
                with knob(pipeline, name, value):
                    s = scores(pipeline, questions)
                results[(name, value, set_name)] = s
                row.append(" ".join(f"{s[m]:.3f}" for m in ("R@1", "R@5", "R@10", "MRR")))
            print(f"{name:<15} {value:<7} " + "   ".join(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
