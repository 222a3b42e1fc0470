"""HTML page → article text and metadata, with the stdlib parser (no network, no heavy deps)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Content of these is never article text: code, chrome and navigation.
_SKIP = {
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "svg",
    "iframe",
    "button",
    "template",
    "select",
    "figure",
    "menu",
}
_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "blockquote",
    "pre",
    "table",
    "tr",
    "td",
    "th",
    "main",
    "hr",
    "dd",
    "dt",
}
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "track", "wbr"}
_META_KEYS = {
    "og:title": "title",
    "twitter:title": "title",
    "article:published_time": "date",
    "date": "date",
    "pubdate": "date",
    "publish-date": "date",
    "dc.date": "date",
    "og:url": "url",
    "og:site_name": "source",
    "author": "authors",
}


@dataclass
class Page:
    text: str
    meta: dict[str, str] = field(default_factory=dict)


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict[str, str] = {}
        self.skip_depth = 0
        self.in_title = False
        self.title_parts: list[str] = []
        self.h1_parts: list[str] = []
        self.in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (values.get("property") or values.get("name") or "").lower()
            if key in _META_KEYS and values.get("content"):
                self.meta.setdefault(_META_KEYS[key], values["content"].strip())
        elif tag == "link" and "canonical" in values.get("rel", "").lower() and values.get("href"):
            self.meta.setdefault("url", values["href"].strip())
        elif tag == "time" and values.get("datetime"):
            self.meta.setdefault("date", values["datetime"])
        if tag in _VOID:
            if tag in _BLOCK and not self.skip_depth:
                self.parts.append("\n")
            return
        if tag in _SKIP or self.skip_depth:
            self.skip_depth += 1
            return
        if tag == "title":
            self.in_title = True
        if tag == "h1":
            self.in_h1 = True
        if tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self.skip_depth:
            self.skip_depth -= 1
            return
        if tag == "title":
            self.in_title = False
        if tag == "h1":
            self.in_h1 = False
        if tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
            return
        if self.skip_depth:
            return
        if self.in_h1:
            self.h1_parts.append(data)
        self.parts.append(data)


def parse_html(markup: str) -> Page:
    """Visible article text (paragraphs kept apart by blank lines) and title/date/url/source/authors.

    >>> parse_html("<title>T</title><nav>Menu</nav><p>Hello &amp; bye</p><script>x()</script>").text
    'Hello & bye'
    """
    parser = _Extractor()
    parser.feed(markup)
    parser.close()
    raw = "".join(parser.parts)
    paragraphs = [" ".join(block.split()) for block in re.split(r"\n\s*\n", raw)]
    text = "\n\n".join(p for p in paragraphs if p)
    meta = dict(parser.meta)
    title = " ".join("".join(parser.title_parts).split()) or " ".join("".join(parser.h1_parts).split())
    if title:
        meta.setdefault("title", title)
    return Page(text=text, meta=meta)
