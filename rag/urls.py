"""One web page, one key: the same article reached through different URLs is one source.

Feeds and crawls link a page many ways: with and without ``/index.html``, with a trailing slash, over http or
https, with campaign parameters (``?utm_source=…``, CNN's ``?cid=external-feeds_…``). RealTime QA's corpus holds
33 of its 3,791 pages under two or three addresses; shown as separate sources, the copies crowd the list.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

_WEB = re.compile(r"(?i)^(https?://|www\.)")
_PAGE_FILE = re.compile(r"/(index|default)\.(html?|php|aspx?)$", re.IGNORECASE)
# Parameters that say how a reader arrived, never which page they read. ``cid`` is a campaign id at CNN and
# many newsrooms' feeds; a site that put its article id in ``cid`` would see its pages merged, so the list is short.
_TRACKING_PREFIXES = ("utm_",)
_TRACKING = frozenset({"cid", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ocid", "ncid"})


def canonical_url(url: str) -> str:
    """The page ``url`` names, written one way: no scheme, ``www.``, fragment, tracking parameters, trailing
    slash or ``index.html``; host lower-cased; the remaining query parameters sorted. "" for a non-address.

    >>> canonical_url("https://www.CNN.com/2022/10/17/tech/kanye-west-ye-parler/index.html#:~:text=Parler")
    'cnn.com/2022/10/17/tech/kanye-west-ye-parler'
    >>> canonical_url("http://cnn.com/2022/10/17/tech/kanye-west-ye-parler?cid=external-feeds_iluminar_google")
    'cnn.com/2022/10/17/tech/kanye-west-ye-parler'
    >>> canonical_url("https://example.com:8443/story/?id=3&utm_medium=email&page=2"), canonical_url("a.txt")
    ('example.com:8443/story?id=3&page=2', '')
    """
    url = url.strip()
    if not _WEB.match(url):
        return ""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = (parts.hostname or "").removeprefix("www.")
    if parts.port:
        host = f"{host}:{parts.port}"
    path = _PAGE_FILE.sub("", parts.path.rstrip("/")).rstrip("/")
    kept = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in _TRACKING and not key.lower().startswith(_TRACKING_PREFIXES)
    )
    query = f"?{urlencode(kept)}" if kept else ""
    return f"{host}{path}{query}"
