"""The scores a passage carries out of retrieval, as the page labels them, in the order it shows them.

A stage that adds a score of its own (a new source, a reranker) adds its row here and the page shows it.
"""

from __future__ import annotations

# (key in ``Passage.scores``, label on the page, decimals)
SCORE_LABELS: tuple[tuple[str, str, int], ...] = (
    ("dense", "dense", 3),
    ("bm25", "BM25", 2),
    ("title", "headline", 2),
    ("fused", "fused", 4),
)
