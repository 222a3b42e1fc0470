"""Polite, safe HTTP fetching for feeds and article pages.

Polite: one identifying user agent, a timeout per request, a few retries with exponential back-off (only for
what a retry can fix: timeouts, refused connections, 429 and 5xx), conditional requests (ETag and
Last-Modified) so an unchanged feed costs a 304, and a cap on how many fetches run at once (``FetchPolicy``).
Safe: ``http``/``https`` only, a size cap read as the body arrives (a lying or missing Content-Length cannot
get past it), and no loopback, private, link-local or otherwise non-public address — checked for the first
URL and for every redirect hop — unless ``NEWSDESK_ALLOW_PRIVATE_URLS=true``. So a feed's link cannot make
newsdesk fetch an address inside your network. (A host that resolves differently between our check and the
connection could still slip past; the check narrows that to a DNS race, it does not close it.)

Failures come back as ``FetchError`` values with a reason a person can act on, never as exceptions.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urljoin, urlparse

from rag.settings import Settings

USER_AGENT = "newsdesk/0.1 (a news question-answering reader; fetches feeds and the articles they link)"
MAX_BYTES = 5 * 1024 * 1024  # the same cap as one article file (ingest/sources.py)
MAX_REDIRECTS = 5
_RETRY_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class FetchPolicy:
    """How newsdesk fetches: limits and manners. Tests shorten the waits; nothing else needs to change them."""

    timeout: float = 10.0  # seconds per connect or read
    max_bytes: int = MAX_BYTES
    retries: int = 2
    backoff: float = 1.0  # seconds before the first retry; doubled for each next one
    concurrency: int = 4  # fetches at once (ingest/feeds.py runs its item pages through a pool this wide)
    user_agent: str = USER_AGENT
    allow_private: bool = False
    allow_addresses: frozenset[str] = frozenset()  # single addresses allowed though private (tests: the server)

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        return cls(timeout=settings.fetch_timeout, concurrency=settings.fetch_concurrency,
                   allow_private=settings.allow_private_urls)


@dataclass(frozen=True)
class Fetched:
    """A response body (empty when ``not_modified``) and what came with it."""

    url: str  # after redirects
    body: bytes
    content_type: str = ""
    charset: str = ""
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False


@dataclass(frozen=True)
class FetchError:
    """Why a URL could not be fetched, in words."""

    url: str
    reason: str
    retryable: bool = field(default=False, compare=False)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as responses, so each hop's address is checked before it is followed."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def check_url(url: str, policy: FetchPolicy) -> str:
    """Why ``url`` may not be fetched under ``policy``, or "" when it may.

    >>> check_url("ftp://example.com/feed", FetchPolicy())
    'only http and https addresses are fetched'
    >>> check_url("http://127.0.0.1:8000/", FetchPolicy())
    '127.0.0.1 is a loopback or private address (set NEWSDESK_ALLOW_PRIVATE_URLS=true to allow)'
    """
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        return "only http and https addresses are fetched"
    if not parsed.hostname:
        return "the address has no host"
    if policy.allow_private:
        return ""
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        return f"cannot resolve {parsed.hostname} ({exc})"
    for info in infos:
        address = str(info[4][0])
        if address in policy.allow_addresses:
            continue
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            return f"{address} is a loopback or private address (set NEWSDESK_ALLOW_PRIVATE_URLS=true to allow)"
    return ""


def fetch(url: str, policy: FetchPolicy, etag: str = "", last_modified: str = "") -> Fetched | FetchError:
    """GET ``url`` under ``policy`` (retries, redirects checked hop by hop); conditional when a validator is given."""
    wait = policy.backoff
    for attempt in range(policy.retries + 1):
        result = _follow(url, policy, etag, last_modified)
        if isinstance(result, Fetched) or not result.retryable or attempt == policy.retries:
            return result
        time.sleep(wait)
        wait *= 2
    raise AssertionError("unreachable")  # the loop always returns on its last attempt


def _follow(url: str, policy: FetchPolicy, etag: str, last_modified: str) -> Fetched | FetchError:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        refused = check_url(current, policy)
        if refused:
            return FetchError(current, refused if current == url else f"redirected to {current}: {refused}")
        result = _get(current, policy, etag, last_modified)
        if isinstance(result, str):
            current = urljoin(current, result)  # a redirect: check the next hop before following it
            continue
        return result
    return FetchError(url, f"more than {MAX_REDIRECTS} redirects")


def _get(url: str, policy: FetchPolicy, etag: str, last_modified: str) -> Fetched | FetchError | str:
    """One request: the response, an error, or the Location of a redirect."""
    headers = {"User-Agent": policy.user_agent, "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    try:
        with _OPENER.open(request, timeout=policy.timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > policy.max_bytes:
                return FetchError(url, f"the page is {int(length) / 1e6:.0f} MB; the limit is {_mb(policy)}")
            body = response.read(policy.max_bytes + 1)
            if len(body) > policy.max_bytes:
                return FetchError(url, f"the page is over the {_mb(policy)} limit")
            return _fetched(response.geturl(), body, response.headers)
    except urllib.error.HTTPError as exc:
        if exc.code in (301, 302, 303, 307, 308) and exc.headers.get("Location"):
            return str(exc.headers["Location"])
        if exc.code == 304:
            return Fetched(url, b"", etag=etag, last_modified=last_modified, not_modified=True)
        return FetchError(url, f"HTTP {exc.code} {exc.reason}", retryable=exc.code in _RETRY_STATUS)
    except TimeoutError:
        return FetchError(url, f"no response within {policy.timeout:g} s", retryable=True)
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return FetchError(url, f"no response within {policy.timeout:g} s", retryable=True)
        return FetchError(url, f"cannot connect ({reason})", retryable=isinstance(reason, ConnectionError))
    except (ConnectionError, OSError, ValueError) as exc:
        return FetchError(url, f"the connection failed ({exc})", retryable=isinstance(exc, ConnectionError))


def _fetched(url: str, body: bytes, headers: Message) -> Fetched:
    content_type = (headers.get_content_type() or "").lower()
    return Fetched(url, body, content_type, headers.get_content_charset() or "",
                   headers.get("ETag") or "", headers.get("Last-Modified") or "")


def _mb(policy: FetchPolicy) -> str:
    return f"{policy.max_bytes / (1024 * 1024):g} MB"
