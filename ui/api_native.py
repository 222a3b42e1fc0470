"""newsdesk's own routes: ask (the `ask --json` object), status, articles, ingest jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from ingest.service import Newsdesk
from ingest.sources import MAX_ARTICLE_BYTES, TEXT_SUFFIXES
from rag.records import Article
from ui import api_openai as oa
from ui.answer_json import answer_json
from ui.api_guard import ApiError
from ui.api_jobs import Job, JobRunner
from ui.api_models import (
    ArticleList,
    ArticleOut,
    ArticleSummary,
    AskRequest,
    AskResponse,
    Deleted,
    ErrorBody,
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


def native_routes(service: Newsdesk, jobs: JobRunner) -> APIRouter:
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
        if not jobs.writing.acquire(blocking=False):
            raise ApiError(409, "An ingest job is writing to the store; delete again once GET /v1/jobs/{id} says "
                           "it is done.", code="ingest_running")
        try:
            deleted = service.delete([article_id])
        finally:
            jobs.writing.release()
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
        job_id, folder = jobs.folder()
        try:
            if kind == "multipart/form-data":
                await _save_files(request, folder)
            else:
                _save_jsonl(await request.body(), kind, folder / f"upload-{job_id[:8]}.jsonl")
        except BaseException:
            jobs.discard(job_id)
            raise
        job = jobs.submit(job_id, folder)
        response.headers["Location"] = f"/v1/jobs/{job.id}"
        return _job(job)

    @router.get("/jobs/{job_id}", response_model=JobOut, responses={404: _ERR})
    def get_job(job_id: str) -> JobOut:
        """An ingest job: queued, running (with progress), done (with its report) or failed (with why)."""
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"There is no job {job_id!r} (jobs are forgotten when the server restarts); "
                           "POST /v1/articles starts one.", code="job_not_found")
        return _job(job)

    return router


def _no_article(article_id: str) -> ApiError:
    return ApiError(404, f"There is no article {article_id!r}; GET /v1/articles lists the ids.",
                    code="article_not_found")


def _summary(article: Article) -> ArticleSummary:
    return ArticleSummary(id=article.id, title=article.title, url=article.url, source=article.source,
                          published_at=article.published_at, authors=list(article.authors), chars=len(article.text))


def _job(job: Job) -> JobOut:
    return JobOut.model_validate(
        {**{k: v for k, v in job.__dict__.items() if k != "folder"}, "inputs": list(job.inputs)}
    )


def _save_jsonl(body: bytes, kind: str, path: Path) -> None:
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
    path.write_bytes(body)


async def _save_files(request: Request, folder: Path) -> None:
    """Every uploaded file into ``folder`` under its own name (never a path), checked for type and size."""
    form = await request.form(max_files=1000)
    saved = 0
    for _, value in form.multi_items():
        if not isinstance(value, UploadFile):
            continue
        name = Path(value.filename or "").name.lstrip(".")
        if Path(name).suffix.lower() not in TEXT_SUFFIXES:
            raise ApiError(400, f"{name or 'A file with no name'}: unknown type; send .txt, .md, .html or .jsonl "
                           "files (one article each, or one per line for .jsonl).")
        if (folder / name).exists():
            raise ApiError(400, f"Two files are named {name!r}: give each file its own name.")
        data = await value.read()
        if len(data) > MAX_ARTICLE_BYTES and not name.lower().endswith(".jsonl"):
            raise ApiError(413, f"{name} is {len(data) / 2**20:.1f} MB; one article may be at most "
                           f"{MAX_ARTICLE_BYTES // 2**20} MB. Split it into one file per article, or send .jsonl.",
                           code="article_too_large")
        (folder / name).write_bytes(data)
        saved += 1
    if not saved:
        raise ApiError(400, "No files in the upload: send them as multipart/form-data, field `files`.")
