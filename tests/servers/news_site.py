"""A small news site on 127.0.0.1 for the feed tests: an RSS feed, article pages with the usual clutter
(navigation, ads, bylines, footers), and pages that fail in each way a real site can. Written by hand."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STORIES = {
    "1": ("Council closes the old bridge", "2022-06-14", "Jane Roe",
          ["The city council voted on Tuesday to close the old river bridge for repairs after engineers found "
           "cracks in two of its supports during a routine inspection.",
           "The closure is expected to last six weeks. Traffic will use the new bridge downstream, which the "
           "council said could carry the extra load without new signals."]),
    "2": ("Harbour ferry adds a night service", "2022-06-15", "Sam Lee",
          ["The harbour ferry will run every hour until two in the morning from July, the operator announced, "
           "after a year in which late-night ridership doubled.",
           "Fares stay the same, and the night boats will stop at all four piers on the eastern shore."]),
    "3": ("Library reopens after a year of work", "2022-06-16", "Ana Ortiz",
          ["The central library reopened on Thursday with a new roof, a children's wing and longer hours on "
           "weekends, a year after a storm flooded its basement.",
           "Some 40,000 books that were moved to a warehouse during the work are back on the shelves."]),
}

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Riverside Courier</title>
<meta property="og:site_name" content="Riverside Courier"><meta property="og:title" content="{title}">
<meta name="author" content="{author}"><meta property="article:published_time" content="{date}T08:30:00Z">
</head><body>
<header><nav><a href="/">Home</a> <a href="/local">Local</a> <a href="/sport">Sport</a>
<a href="/subscribe">Subscribe now for 99p</a></nav></header>
<div class="ad-banner">ADVERTISEMENT: Cheap flights to anywhere, book today!</div>
<main><article><h1>{title}</h1><p class="byline">By {author} · {date}</p>
{paragraphs}
<aside class="related"><h3>Most read</h3><ul><li><a href="/x">Ten things to do this weekend</a></li></ul></aside>
</article></main>
<footer><p>© 2022 Riverside Courier Ltd. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""

ITEM = """<item><title>{title}</title><link>{base}{path}</link><pubDate>{date}</pubDate>
<dc:creator>{author}</dc:creator><description>{summary}</description></item>"""


def page(story: str, extra: str = "") -> bytes:
    title, date, author, paragraphs = STORIES[story]
    body = "\n".join(f"<p>{p}</p>" for p in [*paragraphs, *([extra] if extra else [])])
    return PAGE.format(title=title, date=date, author=author, paragraphs=body).encode()


@dataclass
class Site:
    """What the server serves (tests change it between runs) and what it was asked for."""

    base: str = ""
    edits: dict[str, str] = field(default_factory=dict)  # story → an extra paragraph (a correction)
    hits: Counter[str] = field(default_factory=Counter)
    only: list[str] | None = None  # when set, the clean feed lists only these paths

    def feed(self, paths: list[str]) -> bytes:
        items = []
        for path in paths:
            story = path.rsplit("/", 1)[-1].split(".")[0]
            title, date, author, paragraphs = STORIES.get(story, (f"Story at {path}", "2022-06-16", "Staff", ["?"]))
            day = time.strftime("%a, %d %b %Y 08:30:00 GMT", time.strptime(date, "%Y-%m-%d"))
            summary = paragraphs[0][:80] + (" (updated)" if story in self.edits else "")
            items.append(ITEM.format(title=title, base=self.base, path=path, date=day, author=author, summary=summary))
        return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
                'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Riverside Courier — Local</title>'
                f'<link>{self.base}/</link>{"".join(items)}</channel></rss>').encode()


# A second layout, as another outlet's CMS writes it: a cookie banner, share buttons, <time>, an inline promo.
PAGE_B = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Night market opens on the quay</title>
<meta name="description" content="A weekly night market opens on the quay."></head><body>
<div id="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
<div class="site-header"><a href="/">The Harbour Herald</a><ul class="menu"><li>News</li><li>Weather</li></ul></div>
<div class="story"><h1 class="headline">Night market opens on the quay</h1>
<div class="meta"><span class="author">Priya Nair</span> <time datetime="2022-06-17">17 June 2022</time></div>
<div class="share"><a href="#">Share on Facebook</a> <a href="#">Share on X</a></div>
<div class="body"><p>A weekly night market will open on the harbour quay on Friday, with forty stalls selling food,
crafts and plants until midnight, the harbour board said.</p>
<p class="promo"><a href="/newsletter">Read more: get our free weekend newsletter</a></p>
<p>Stallholders will pay a small fee that goes towards lighting the quay, and the board said it would review
the market after the summer.</p></div></div>
<div class="comments"><h4>Comments</h4><p>Great news, finally something to do!</p></div>
<footer>The Harbour Herald · Contact · Terms</footer></body></html>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>The Harbour Herald</title><id>urn:herald</id><updated>2022-06-17T09:00:00Z</updated>
<entry><title>Night market opens on the quay</title><link href="{base}/b/market.html"/><id>urn:herald:1</id>
<updated>2022-06-17T09:00:00Z</updated><author><name>Priya Nair</name></author>
<summary>A weekly night market opens on the quay.</summary></entry></feed>"""

GOOD = ["/a/1.html", "/a/2.html", "/a/3.html"]
BAD = ["/a/missing.html", "/a/slow.html", "/a/huge.html", "/a/photo.png", "/a/moved.html"]


def _handler(site: Site, port: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            site.hits[self.path] += 1
            if self.path in ("/clean.xml", "/mixed.xml", "/top.xml"):
                listed = {"/clean.xml": site.only or GOOD, "/mixed.xml": GOOD + BAD, "/top.xml": GOOD[:1]}
                body = site.feed(listed[self.path])
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                return self._send(200, "application/rss+xml", body, {"ETag": etag})
            if self.path == "/atom.xml":
                return self._send(200, "application/atom+xml", ATOM.format(base=site.base).encode())
            if self.path == "/b/market.html":
                return self._send(200, "text/html; charset=utf-8", PAGE_B.encode())
            if self.path.startswith("/a/") and self.path.split("/")[-1].split(".")[0] in STORIES:
                story = self.path.split("/")[-1].split(".")[0]
                return self._send(200, "text/html; charset=utf-8", page(story, site.edits.get(story, "")))
            if self.path == "/a/slow.html":
                time.sleep(2.0)
                return self._send(200, "text/html", page("1"))
            if self.path == "/a/huge.html":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")  # no Content-Length: the cap must count bytes
                self.end_headers()
                try:
                    for _ in range(30):
                        self.wfile.write(b"<p>" + b"x" * (1024 * 1024 - 7) + b"</p>\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return None
            if self.path == "/a/photo.png":
                return self._send(200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
            if self.path == "/a/moved.html":
                return self._send(302, "text/html", b"", {"Location": f"http://127.0.0.2:{port}/a/1.html"})
            return self._send(404, "text/html", b"<h1>Not found</h1>")

        def _send(self, status: int, ctype: str, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def news_site() -> Iterator[Site]:
    """The site, served on 127.0.0.1 from a thread for the duration of the block."""
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.RequestHandlerClass = _handler(site, port)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
