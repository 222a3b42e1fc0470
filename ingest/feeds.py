"""Feeds and web pages as ingest sources: `newsdesk ingest https://…/feed.xml`, `… https://…/article`, `feeds.txt`.

A URL is fetched (ingest/fetch.py) and read as what it turns out to be: an RSS or Atom feed (``feedparser``),
whose items' pages are then fetched, or one article page. A page's text, headline, date, byline and site name
come from ``trafilatura``; for a feed item the feed's own title, date and authors win (they are structured and
written by the outlet), the page's site name names the outlet (a feed's title names a channel, "Example News
— World"), falling back to the feed's title.

Incremental by construction: the feed is asked for with its last ETag/Last-Modified (an unchanged feed costs a
304 and nothing else), and an item whose link, title, date and summary are as last seen is not fetched again.
Changed items are fetched and handed to the indexer, which re-embeds only articles whose content changed.
Articles from the web have no path, so ``--prune`` never removes them: items that leave a feed stay.
What was seen is kept in ``<data_dir>/feeds/state.json`` and written only after the ingest succeeded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ingest.fetch import Fetched, FetchError, FetchPolicy, fetch
from ingest.meta import parse_date
from ingest.sources import Item, Note, Rejected
from rag.records import Article
from rag.settings import Settings

FEED_LIST = "feeds.txt"  # a file of this name (or ending in .feeds.txt) lists URLs, one a line
_FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml"}
_PAGE_TYPES = {"text/html", "application/xhtml+xml"}


def is_url(value: str) -> bool:
    """Whether a command-line argument is a web address rather than a path.

    >>> is_url("https://example.com/feed.xml"), is_url("HTTP://x.org"), is_url("corpus/feeds.txt")
    (True, True, False)
    """
    return value.lower().startswith(("http://", "https://"))


def is_feed_list(path: Path) -> bool:
    return path.name == FEED_LIST or path.name.endswith("." + FEED_LIST)


@dataclass
class RemoteSources:
    """The URLs among ingest's arguments (given directly or listed in feeds.txt files), read as ingest items."""

    paths: list[Path]  # the arguments that are plain files or folders
    urls: list[str]
    policy: FetchPolicy
    state_path: Path
    problems: list[Rejected] = field(default_factory=list)  # bad lines of feed lists
    _state: dict[str, dict[str, Any]] = field(default_factory=dict)
    _pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    _linked: set[str] = field(default_factory=set)  # item links already read in this run

    @classmethod
    def from_args(cls, args: list[str], settings: Settings, policy: FetchPolicy | None = None) -> RemoteSources:
        """Split ``newsdesk ingest``'s arguments into paths and URLs (reading any feeds.txt)."""
        paths: list[Path] = []
        urls: list[str] = []
        problems: list[Rejected] = []
        for arg in args:
            if is_url(arg):
                urls.append(arg)
            elif is_feed_list(Path(arg)) and Path(arg).is_file():
                found, bad = read_feed_list(Path(arg))
                urls += found
                problems += bad
            else:
                paths.append(Path(arg))
        remote = cls(paths, list(dict.fromkeys(urls)), policy or FetchPolicy.from_settings(settings),
                     settings.data_dir / "feeds" / "state.json", problems)
        remote._state = _load(remote.state_path) if remote.urls else {}
        return remote

    def items(self) -> Iterator[Item]:
        """Every article the URLs give, and a Rejected (with its reason) for each one that could not be read."""
        yield from self.problems
        for url in self.urls:
            yield from self._read(url)

    def commit(self) -> None:
        """Remember what was fetched, so the next run asks only for what changed (call after a good ingest)."""
        if not self._pending:
            return
        state = {**self._state, **self._pending}
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.state_path.with_suffix(".tmp")
        temp.write_text(json.dumps(state, indent=1, sort_keys=True), "utf-8")
        os.replace(temp, self.state_path)
        self._state, self._pending = state, {}

    def _read(self, url: str) -> Iterator[Item]:
        seen = self._state.get(url, {})
        got = fetch(url, self.policy, seen.get("etag", ""), seen.get("last_modified", ""))
        if isinstance(got, FetchError):
            yield Rejected(url, got.reason)
            return
        if got.not_modified:
            yield Note(url, "unchanged since the last fetch (HTTP 304); nothing fetched")
            return
        validators = {"etag": got.etag, "last_modified": got.last_modified}
        if _looks_like_feed(got):
            retry_later: list[str] = []
            yield from self._read_feed(url, got, retry_later)
            if not retry_later:  # else the next run must fetch the feed again to retry those items
                self._pending[url] = validators
        elif got.content_type in _PAGE_TYPES:
            found = page_article(got, url)
            yield found
            if isinstance(found, Article):
                self._pending[url] = validators
        else:
            yield Rejected(url, f"neither a feed nor a web page ({got.content_type or 'no content type'})")

    def _read_feed(self, url: str, got: Fetched, retry_later: list[str]) -> Iterator[Item]:
        import feedparser

        parsed = feedparser.parse(got.body)
        if not parsed.entries and parsed.get("bozo"):
            yield Rejected(url, f"not a readable RSS or Atom feed ({parsed.get('bozo_exception')})")
            return
        channel = str(parsed.feed.get("title", "")).strip()
        todo: list[tuple[str, Any, str]] = []
        unchanged = 0
        for entry in parsed.entries:
            link = str(entry.get("link", "")).strip()
            if not link:
                yield Rejected(f"{url} item {entry.get('title', '?')!r}", "the feed item has no link")
                continue
            if link in self._linked:  # another feed of this run carries it too (a story in "Top" and "World")
                continue
            self._linked.add(link)
            mark = _fingerprint(entry)
            if self._state.get(link, {}).get("item") == mark:
                unchanged += 1
            else:
                todo.append((link, entry, mark))
        if unchanged:
            yield Note(url, f"{unchanged} item(s) unchanged since the last fetch; not fetched again")
        with ThreadPoolExecutor(max_workers=self.policy.concurrency) as pool:
            pages = pool.map(lambda job: fetch(job[0], self.policy), todo)
            for (link, entry, mark), page in zip(todo, pages, strict=True):
                found = page_article(page, link, channel) if isinstance(page, Fetched) else Rejected(link, page.reason)
                if isinstance(page, FetchError) and page.retryable:
                    retry_later.append(link)
                if isinstance(found, Article):
                    found = _with_feed_fields(found, entry)
                    self._pending[link] = {"item": mark}
                yield found


def read_feed_list(path: Path) -> tuple[list[str], list[Rejected]]:
    """The URLs of a feeds.txt: one a line; blank lines and ``#`` comments are skipped."""
    urls: list[str] = []
    bad: list[Rejected] = []
    for n, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if is_url(line):
            urls.append(line)
        else:
            bad.append(Rejected(f"{path}:{n}", "not an http(s) address; a feed list holds one URL a line"))
    return urls, bad


def page_article(got: Fetched | FetchError, url: str, outlet: str = "") -> Article | Rejected:
    """One fetched page as an article (``trafilatura``: main text without navigation, ads or footer); its source
    is the page's site name, else ``outlet`` (a feed's title), else the host."""
    if isinstance(got, FetchError):
        return Rejected(url, got.reason)
    if got.content_type not in _PAGE_TYPES:
        return Rejected(url, f"not a web page ({got.content_type or 'no content type'})")
    import trafilatura

    doc = trafilatura.bare_extraction(got.body, url=got.url, with_metadata=True, include_comments=False,
                                      include_tables=False)
    meta: dict[str, Any] = {} if doc is None else doc if isinstance(doc, dict) else doc.as_dict()
    title = str(meta.get("title") or "").strip()
    text = _without_promos(_without_headline(str(meta.get("text") or ""), title))
    site = str(meta.get("sitename") or "")
    if site in (urlparse(got.url).netloc, urlparse(got.url).hostname):
        site = ""  # trafilatura's fallback when a page names no site: the host, which is no outlet's name
    if not text.strip():
        return Rejected(url, "no article text found on the page")
    author = str(meta.get("author") or "")
    return Article(
        id=url, text=text, title=title, url=url,
        source=site or outlet or urlparse(url).hostname or "",
        published_at=parse_date(str(meta.get("date") or "")),
        authors=tuple(a.strip() for a in author.replace(";", ",").split(",") if a.strip()),
    )


def _with_feed_fields(article: Article, entry: Any) -> Article:
    """The feed's title, date and authors over the page's."""
    from dataclasses import replace

    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    published = time.strftime("%Y-%m-%d", stamp) if stamp else ""
    names = tuple(dict.fromkeys(str(a.get("name", "")).strip() for a in entry.get("authors", []) if a.get("name")))
    return replace(
        article,
        title=str(entry.get("title", "")).strip() or article.title,
        published_at=published or article.published_at,
        authors=names or article.authors,
    )


def _without_headline(text: str, title: str) -> str:
    """trafilatura keeps the page's <h1> as the first line; the title is stored apart, so drop the copy."""
    first, _, rest = text.partition("\n")
    return rest.lstrip() if title and first.strip() == title.strip() else text


_PROMO = re.compile(r"^(?:read more|related|see also|sign up|subscribe|click here)\b.{0,100}$", re.I)


def _without_promos(text: str) -> str:
    """Drop the short "Read more: …" and "Sign up …" lines a CMS puts between paragraphs (trafilatura keeps them).

    >>> _without_promos("It opens Friday.\\nRead more: our free newsletter\\nStalls pay a fee.").splitlines()
    ['It opens Friday.', 'Stalls pay a fee.']
    """
    return "\n".join(line for line in text.split("\n") if not _PROMO.match(line.strip()))


def _fingerprint(entry: Any) -> str:
    """What marks a feed item as changed: its link, title, dates and summary."""
    parts = [str(entry.get(key, "")) for key in ("link", "title", "published", "updated", "summary")]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


def _looks_like_feed(got: Fetched) -> bool:
    if got.content_type in _FEED_TYPES or (got.content_type.endswith("+xml") and got.content_type not in _PAGE_TYPES):
        return True
    head = got.body[:200].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return got.content_type in ("text/plain", "") and head.startswith((b"<?xml", b"<rss", b"<feed"))


def _load(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}  # no state (or a damaged one) only costs a full fetch
    return data if isinstance(data, dict) else {}
