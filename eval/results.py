"""What an eval run produced: each system's scored rows and summary, and the run's metadata.

Its own module so the runner (which makes runs) and the report writer (which reads them) import it and not
each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eval.metrics import Row, summarize


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
