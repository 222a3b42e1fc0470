"""Readers that turn files into ``Article`` records: .txt, .md, .html/.htm and .jsonl.

Reading never raises for bad input: every file yields articles, ``Rejected`` items (with the reason) or
``Note`` items (something worth saying that did not stop the article), so one bad file never stops a batch.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ingest.html_page import parse_html
from ingest.meta import best_title, parse_date
from rag.records import Article

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".jsonl"}
MAX_ARTICLE_BYTES = 5 * 1024 * 1024  # one article; bigger single files are almost always not one article
MAX_JSONL_LINE_BYTES = MAX_ARTICLE_BYTES


@dataclass(frozen=True)
class Rejected:
    """Input that could not be ingested, and why."""

    where: str
    reason: str


@dataclass(frozen=True)
class Note:
    """Something the user should know that did not stop ingest (a skipped file, a guessed encoding)."""

    where: str
    message: str


@dataclass(frozen=True)
class FileDone:
    """Marks the end of one file; ``complete`` when nothing in it was rejected (prune relies on it)."""

    path: str
    complete: bool


Item = Article | Rejected | Note | FileDone


def read_paths(paths: list[Path]) -> Iterator[Item]:
    """Everything under ``paths``, file by file, in a stable order."""
    for raw in paths:
        if not raw.exists():
            yield Rejected(str(raw), "no such file or folder; check the path")
            continue
        root = raw.resolve()
        if root.is_dir():
            yield from _read_folder(root)
        elif root.suffix.lower() not in TEXT_SUFFIXES:
            yield Rejected(str(raw), f"unknown file type {root.suffix or '(none)'}; use .txt, .md, .html or .jsonl")
        else:
            yield from read_file(root, root.parent)


def _read_folder(root: Path) -> Iterator[Item]:
    seen_dirs: set[tuple[int, int]] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        stat = os.stat(folder)
        key = (stat.st_dev, stat.st_ino)
        if key in seen_dirs:  # a symlink loop, or a second link to a folder already read
            dirs[:] = []
            yield Note(_rel(Path(folder), root), "folder already read through another link; skipped")
            continue
        seen_dirs.add(key)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if path.suffix.lower() not in TEXT_SUFFIXES:
                yield Note(_rel(path, root), "skipped: not .txt, .md, .html or .jsonl")
                continue
            yield from read_file(path, root)


def read_file(path: Path, root: Path) -> Iterator[Item]:
    """Articles from one file; ids of non-JSONL files are the path relative to ``root``."""
    where = _rel(path, root)
    try:
        if path.suffix.lower() == ".jsonl":
            ok = yield from _read_jsonl(path, where)
            yield FileDone(str(path), ok)
            return
        size = path.stat().st_size
        if size > MAX_ARTICLE_BYTES:
            yield Rejected(
                where,
                f"too large for one article ({size / 2**20:.1f} MB > {MAX_ARTICLE_BYTES // 2**20} MB); "
                "split it into one file per article or use .jsonl",
            )
            yield FileDone(str(path), False)
            return
        data = path.read_bytes()
    except OSError as exc:
        yield Rejected(where, f"cannot read: {exc.strerror or exc}")
        yield FileDone(str(path), False)
        return
    text, note = decode(data)
    if text is None:
        yield Rejected(where, note or "binary file, not text")
        yield FileDone(str(path), False)
        return
    if note:
        yield Note(where, note)
    article = _article_from_text(text, path, where, root)
    if article is None:
        yield Rejected(where, "empty: no text to index")
        yield FileDone(str(path), False)
        return
    yield article
    yield FileDone(str(path), True)


def decode(data: bytes) -> tuple[str | None, str]:
    """Bytes to text, and a note saying how when it was not plain UTF-8; ``None`` for binary data.

    >>> decode("café".encode("cp1252"))
    ('café', 'not UTF-8; decoded as Windows-1252')
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "decoded as UTF-16"
        except UnicodeDecodeError:
            return None, "binary file, not text (bad UTF-16)"
    if b"\x00" in data[:8192]:
        return None, "binary file, not text"
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "not UTF-8; decoded as Windows-1252"
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), "not UTF-8; undecodable bytes replaced with U+FFFD"


def _article_from_text(text: str, path: Path, where: str, root: Path) -> Article | None:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    suffix = path.suffix.lower()
    meta: dict[str, str] = {}
    if suffix in {".html", ".htm"}:
        page = parse_html(text)
        text, meta = page.text, page.meta
    elif suffix in {".md", ".markdown"}:
        text, meta = _split_front_matter(text)
    elif suffix == ".txt" and _FRONT.match(text):
        # Plain text may open with the same block; kept as text unless it names a field (a "---" rule is not one).
        body, found = _split_front_matter(text)
        if found:
            text, meta = body, found
    if not text.strip():
        return None
    url = meta.get("url", "")
    markdown = suffix in {".md", ".markdown"}
    title = best_title(meta.get("title", ""), text, url if _is_http(url) else "", markdown=markdown)
    return Article(
        id=where,
        text=text,
        title=title,
        url=url if _is_http(url) else "",
        source=meta.get("source") or _host(url) or root.name or "local",
        published_at=parse_date(meta.get("date", "")),
        authors=tuple(a.strip() for a in meta.get("authors", "").split(",") if a.strip()),
        path=str(path),
    )


_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_KEYS = {
    "title": "title",
    "date": "date",
    "published": "date",
    "published_at": "date",
    "url": "url",
    "source": "source",
    "author": "authors",
    "authors": "authors",
}


def _split_front_matter(text: str) -> tuple[str, dict[str, str]]:
    match = _FRONT.match(text)
    if not match:
        return text, {}
    meta: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in _KEYS:
            meta[_KEYS[key.strip().lower()]] = value.strip().strip("\"'[]")
    return text[match.end() :], meta


def _read_jsonl(path: Path, where: str) -> Generator[Item, None, bool]:  # returns whether every line went in
    complete, lines = True, 0
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield Rejected(where, f"cannot read: {exc.strerror or exc}")
        return False
    with handle:
        for number, raw in enumerate(handle, start=1):
            line_where = f"{where}:{number}"
            if not raw.strip():
                continue
            lines += 1
            if len(raw) > MAX_JSONL_LINE_BYTES:
                complete = False
                yield Rejected(line_where, f"line longer than {MAX_JSONL_LINE_BYTES // 2**20} MB")
                continue
            text, note = decode(raw)
            if text is None:
                complete = False
                yield Rejected(line_where, "binary data, not a JSON line")
                continue
            if note:
                yield Note(line_where, note)
            result = _article_from_json(text, path, line_where)
            if isinstance(result, Rejected):
                complete = False
            elif not result.text:
                yield Note(line_where, f"no text: indexed by its headline ({result.title!r}) and link only; "
                                       "answers cannot quote it")
            yield result
    if not lines:
        yield Rejected(where, "empty: no article lines")
        return False
    return complete


_NO_TEXT = "no 'text' (a non-empty string, or a 'url' whose page has a headline, is required)"


def _article_from_json(line: str, path: Path, where: str) -> Article | Rejected:
    try:
        # Without the line's own newline, a cut-off line reads "Unterminated string", not "Invalid control character".
        record = json.loads(line.rstrip("\r\n"))
    except json.JSONDecodeError as exc:
        return Rejected(where, f"malformed JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})")
    if not isinstance(record, dict):
        return Rejected(where, "not a JSON object; each line must be an article object with a 'text' field")
    text = record.get("text")
    if text is None or (isinstance(text, str) and not text.strip()):
        # A crawler that could not extract a page still knows its address and headline; a link that answers
        # "which page covers this?" is worth keeping, though no answer can quote it.
        text = ""
    if not isinstance(text, str):
        return Rejected(where, _NO_TEXT)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    url = _string(record.get("url"))
    web_url = url if _is_http(url) else ""
    title = best_title(_string(record.get("title")), text, web_url)
    if not text and not (web_url and title):
        return Rejected(where, _NO_TEXT)
    article_id = _string(record.get("id")) or url or where
    authors = record.get("authors") or ()
    if isinstance(authors, str):
        authors = [authors]
    return Article(
        id=article_id,
        text=text,
        title=title,
        url=web_url,
        source=_string(record.get("source")) or _host(url) or path.stem,
        published_at=parse_date(_string(record.get("published_at") or record.get("date"))),
        authors=tuple(str(a) for a in authors if str(a).strip()),
        path=str(path),
    )


def _string(value: object) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))


def _is_http(url: str) -> bool:
    return urlparse(url).scheme in {"http", "https"} and bool(urlparse(url).netloc)


def _host(url: str) -> str:
    if not _is_http(url):
        return ""
    host = urlparse(url).netloc.lower().split("@")[-1].split(":")[0]
    return host.removeprefix("www.")


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() if path != root else path.name
    except ValueError:
        return path.as_posix()


def estimate_articles(paths: list[Path]) -> int:
    """A quick count for the progress bar: files, plus non-empty lines of .jsonl files."""
    total = 0
    for raw in paths:
        if not raw.exists():
            continue
        files = [raw] if raw.is_file() else [p for p in raw.rglob("*") if p.suffix.lower() in TEXT_SUFFIXES]
        for path in files:
            if path.suffix.lower() == ".jsonl":
                try:
                    with path.open("rb") as handle:
                        total += sum(1 for line in handle if line.strip())
                except OSError:
                    pass
            else:
                total += 1
    return total
