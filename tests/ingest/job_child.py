"""A server process that dies mid-ingest: it takes the worker lock, claims the queued job and runs the real
ingest through the service, then blocks inside the progress callback (chunks written, BM25 and last-ingest
not yet) until killed.

    python -m tests.ingest.job_child DATA_DIR
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main(data_dir: Path) -> None:
    from ingest.jobs import JobQueue, Worker, service_runner
    from ingest.service import build_service
    from rag.settings import Settings

    real = service_runner(build_service(Settings(data_dir=data_dir)))

    def hang(articles: int, chunks: int) -> None:
        print(f"mid-ingest {articles} {chunks}", flush=True)
        time.sleep(3600)  # the parent kills us here

    worker = Worker(JobQueue(data_dir), lambda job, progress: real(job, hang))
    assert worker.acquire(), "the worker lock should be free"
    worker.run_once()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
