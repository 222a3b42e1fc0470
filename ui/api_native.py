"""newsdesk's own routes: ask (the `ask --json` object), status, articles, ingest jobs."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ingest.indexer import IngestBusyError
from ingest.service import Newsdesk
from ingest.sources import MAX_ARTICLE_BYTES, TEXT_SUFFIXES
from rag.records import Article
from ui import api_openai as oa
from ui.answer_json import answer_json
from ui.api_guard import ApiError
from ui.api_jobs import ApiJobs, job_out
from ui.api_models import (
    ArticleList,
    ArticleOut,
    ArticleSummary,
    AskRequest,
    AskResponse,
    Deleted,
    ErrorBody,
    JobList,
    JobOut,
    StatusOut,
)

JSONL_TYPES = {"application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json"}
_ERR = {"model": ErrorBody}
_EXAMPLE = '{"id": "a1", "title": "…", "url": "https://…", "published_at": "2022-06-15", "text": "…"}'
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-ndjson": {"schema": {"type": "string", "description": f"One article per line: {_EXAMPLE}"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                    "required": ["files"],
                }
            },
        },
    }
}


def native_routes(service: Newsdesk, jobs: ApiJobs) -> APIRouter:
    """The routes under /v1 that are newsdesk's own (auth is added by the caller)."""
    router = APIRouter(tags=["newsdesk"])

    @router.post("/ask", response_model=AskResponse, responses={400: _ERR, 409: _ERR, 503: _ERR})
    def ask(body: AskRequest) -> dict[str, Any]:
        """The same JSON object as `newsdesk ask --json`."""
        history = [(turn.question, turn.answer) for turn in body.history]
        return answer_json(service.ask(body.question, history, **oa.call_options(body)))

    @router.get("/status", response_model=StatusOut, responses={409: _ERR, 503: _ERR})
    def status() -> dict[str, Any]:
        """What is indexed, where, and with what (as `newsdesk status --json`)."""
        return service.status().as_dict()

    @router.get("/articles", response_model=ArticleList, responses={409: _ERR, 503: _ERR})
    def list_articles(offset: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=500)) -> ArticleList:
        """Stored articles by id, a page at a time (without their texts)."""
        ids = service.article_ids()  # metadata only: the texts are read for the one page asked for
        page = ids[offset : offset + limit]
        found = service.articles(page) if page else []
        return ArticleList(total=len(ids), offset=offset, limit=limit, articles=[_summary(a) for a in found])

    @router.get("/articles/{article_id:path}", response_model=ArticleOut, responses={404: _ERR, 409: _ERR})
    def get_article(article_id: str) -> ArticleOut:
        """One article with its full text (citation offsets index into it)."""
        article = service.article(article_id)
        if article is None:
            raise _no_article(article_id)
        return ArticleOut(**_summary(article).model_dump(), text=article.text)

    @router.delete("/articles/{article_id:path}", response_model=Deleted, responses={404: _ERR, 409: _ERR, 503: _ERR})
    def delete_article(article_id: str) -> Deleted:
        """Remove an article: its chunks, its record and its BM25 entries."""
        # The job's row says "running" from before its ingest takes the store until after it lets go, so a
        # client that reads "done" can delete at once; a job claimed just after this check waits for the delete.
        if (writing := jobs.writing()) is not None:
            raise ApiError(409, f"Ingest job {writing.id} is writing to the store; delete again once "
                           f"GET /v1/jobs/{writing.id} says it is done.", code="ingest_running")
        try:
            deleted = service.delete([article_id])
        except IngestBusyError as exc:  # a `newsdesk ingest` from the command line, or another delete
            raise ApiError(409, f"{exc} Then delete again (GET /v1/jobs/{{id}} shows the API's and the page's "
                           "jobs).", code="ingest_running") from exc
        if not deleted:
            raise _no_article(article_id)
        return Deleted(id=article_id)

    @router.post("/articles", status_code=202, response_model=JobOut, openapi_extra=UPLOAD_BODY,
                 responses={400: _ERR, 413: _ERR, 415: _ERR, 503: _ERR})
    async def add_articles(request: Request, response: Response) -> JobOut:
        """Start an ingest job for a JSONL body (one article object per line) or uploaded files (.txt .md
        .html .jsonl, each article at most 5 MB); poll GET /v1/jobs/{id} for its progress and report."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "multipart/form-data" and kind not in JSONL_TYPES:
            raise ApiError(415, f"Content-Type {kind or '(none)'} is not accepted: send application/x-ndjson "
                           "(one article object per line) or multipart/form-data files.", code="unsupported_media_type")
        if kind == "multipart/form-data":
            files = await _read_files(request)
        else:  # every upload checked before any is saved, so a refused request leaves nothing behind
            files = [(f"upload-{uuid.uuid4().hex[:8]}.jsonl", _jsonl(await request.body(), kind))]
        job = await run_in_threadpool(jobs.submit, files)  # disk and SQLite writes, off the event loop
        response.headers["Location"] = f"/v1/jobs/{job.id}"
        return job_out(job)

    @router.get("/jobs", response_model=JobList, responses={503: _ERR})
    def list_jobs(limit: int = Query(20, ge=1, le=200)) -> JobList:
        """The newest ingest jobs of the data dir: those posted here and those started on the page."""
        return JobList(jobs=[job_out(j) for j in jobs.queue.jobs(limit)])

    @router.get("/jobs/{job_id}", response_model=JobOut, responses={404: _ERR, 503: _ERR})
    def get_job(job_id: str) -> JobOut:
        """An ingest job: queued, running (with progress), done (with its report), failed (with why) or stopped
        (the server died during it too often). A job a restarted server finds half done is resumed."""
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"There is no job {job_id!r}; GET /v1/jobs lists the jobs, POST /v1/articles "
                           "starts one.", code="job_not_found")
        return job_out(job)

    return router


def _no_article(article_id: str) -> ApiError:
    return ApiError(404, f"There is no article {article_id!r}; GET /v1/articles lists the ids.",
                    code="article_not_found")


def _summary(article: Article) -> ArticleSummary:
    return ArticleSummary(id=article.id, title=article.title, url=article.url, source=article.source,
                          published_at=article.published_at, authors=list(article.authors), chars=len(article.text))


def _jsonl(body: bytes, kind: str) -> bytes:
    """The body as a .jsonl file; a JSON array (or one object) sent as application/json becomes its lines."""
    if not body.strip():
        raise ApiError(400, f"The body is empty: send one article object per line, e.g. {_EXAMPLE}")
    if kind == "application/json" and body.lstrip()[:1] == b"[":
        try:
            records = json.loads(body)
        except ValueError as exc:
            raise ApiError(400, f"The body is not valid JSON ({exc}); send an array of article objects, "
                           "or one article object per line as application/x-ndjson.") from exc
        body = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode() + b"\n"
    return body


async def _read_files(request: Request) -> list[tuple[str, bytes]]:
    """Every uploaded file by its own name (never a path), checked for type and size."""
    form = await request.form(max_files=1000)
    files: dict[str, bytes] = {}
    for _, value in form.multi_items():
        if not isinstance(value, UploadFile):
            continue
        name = Path(value.filename or "").name.lstrip(".")
        if Path(name).suffix.lower() not in TEXT_SUFFIXES:
            raise ApiError(400, f"{name or 'A file with no name'}: unknown type; send .txt, .md, .html or .jsonl "
                           "files (one article each, or one per line for .jsonl).")
        if name in files:
            raise ApiError(400, f"Two files are named {name!r}: give each file its own name.")
        data = await value.read()
        if len(data) > MAX_ARTICLE_BYTES and not name.lower().endswith(".jsonl"):
            raise ApiError(413, f"{name} is {len(data) / 2**20:.1f} MB; one article may be at most "
                           f"{MAX_ARTICLE_BYTES // 2**20} MB. Split it into one file per article, or send .jsonl.",
                           code="article_too_large")
        files[name] = data
    if not files:
        raise ApiError(400, "No files in the upload: send them as multipart/form-data, field `files`.")
    return list(files.items())
