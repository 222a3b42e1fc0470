"""Pure helpers that turn answers into what the page shows: escaped text, safe links, source cards.

Article text, titles and urls come from whoever wrote the articles, so nothing here lets them become markup.
Text for ``st.markdown`` goes through ``escape_markdown`` (every ASCII punctuation mark backslash-escaped, so
no HTML, links, emphasis, math or colour directives); HTML for ``st.html`` is built only from
``html.escape``-d pieces and our own tags, and a url becomes a link only when it is plain http(s).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from rag.records import HEADLINE_ONLY, Citation, Passage, SentenceCheck
from rag.retrieval.scores import SCORE_LABELS
from rag.verify import locate

NOT_FOUND = "not found in the sources"
CONTEXT_CHARS = 160  # on each side of a quote: about two lines, enough to see what the sentence is about
SNIPPET_CHARS = 280

_MD_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # all ASCII punctuation; CommonMark lets each be escaped
_INDENT = re.compile(r"(^|\n)[ \t]+")
_SPACES = re.compile(r"\s+")
_MUTED = "opacity:0.72;font-size:0.85rem"


def escape_markdown(text: str) -> str:
    """``text`` as markdown that displays exactly that text (line breaks kept, nothing interpreted).

    >>> escape_markdown("<b>$5</b> *now*")
    '\\\\<b\\\\>\\\\$5\\\\<\\\\/b\\\\> \\\\*now\\\\*'
    """
    # Leading indentation would turn a line into a code block, where the escapes would show.
    return _MD_PUNCTUATION.sub(r"\\\1", _INDENT.sub(r"\1", text))


def esc(text: str) -> str:
    """HTML-escape ``text`` for element content and quoted attribute values."""
    return html.escape(text, quote=True)


def safe_url(url: str) -> str | None:
    """``url`` when it is an http(s) address a browser can open safely, else ``None``.

    >>> safe_url("https://example.com/a?b=1"), safe_url("javascript:alert(1)"), safe_url("http:///x")
    ('https://example.com/a?b=1', None, None)
    """
    url = url.strip()
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return url


@dataclass(frozen=True)
class Window:
    """A quote with the text around it, trimmed to whole words; ``clipped_*`` say whether to show ``…``."""

    before: str
    quote: str
    after: str
    clipped_before: bool = False
    clipped_after: bool = False


def quote_window(text: str, start: int, end: int, width: int = CONTEXT_CHARS) -> Window:
    """The quote ``text[start:end]`` with up to ``width`` characters of context on each side.

    >>> w = quote_window("One two three. Four five six. Seven eight nine.", 15, 29, width=8)
    >>> (w.before, w.quote, w.after, w.clipped_before, w.clipped_after)
    ('three. ', 'Four five six.', ' Seven', True, True)
    """
    lo, hi = max(0, start - width), min(len(text), end + width)
    before, after = text[lo:start], text[end:hi]
    if lo > 0 and not text[lo - 1].isspace() and " " in before:  # drop the cut-off word at each edge
        before = before[before.index(" ") + 1 :]
    if hi < len(text) and not text[hi].isspace() and " " in after:
        after = after[: after.rindex(" ")]
    return Window(
        before=_squash(before, keep_edges=True).lstrip(), quote=_squash(text[start:end]),
        after=_squash(after, keep_edges=True).rstrip(),
        clipped_before=lo > 0, clipped_after=hi < len(text),
    )


def citation_window(citation: Citation, passages: Sequence[Passage], width: int = CONTEXT_CHARS) -> Window:
    """The context of a citation, taken from the retrieved chunk that holds its span (the quote alone if none)."""
    candidates = list(passages)
    if 1 <= citation.n <= len(candidates):  # [n] normally points at passage n: look there first
        candidates.insert(0, candidates[citation.n - 1])
    for passage in candidates:
        chunk = passage.chunk
        lo, hi = citation.start - chunk.start, citation.end - chunk.start
        if chunk.article_id == citation.article_id and 0 <= lo <= hi <= len(chunk.text) \
                and chunk.text[lo:hi] == citation.quote:
            return quote_window(chunk.text, lo, hi, width)
    return Window("", _squash(citation.quote), "")


def meta_line(source: str, published_at: str) -> str:
    """'source · date', leaving out what is unknown.

    >>> meta_line("Example Wire", "2022-06-15"), meta_line("", "")
    ('Example Wire · 2022-06-15', 'date unknown')
    """
    return " · ".join(x for x in (source, published_at[:10] or "date unknown") if x)


def title_html(title: str, url: str, fallback: str) -> str:
    """The title, linked (new tab, no referrer) only when ``url`` is safe."""
    label = esc(title or fallback)
    link = safe_url(url)
    if link is None:
        return f"<strong>{label}</strong>"
    return f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer nofollow"><strong>{label}</strong></a>'


def source_card(citation: Citation, window: Window) -> str:
    """One source under an answer: ``[n]`` title (linked), source and date, and the quote highlighted in context."""
    quote = (
        ("… " if window.clipped_before else "") + esc(window.before)
        + '<mark style="background:rgba(255,205,40,0.45);color:inherit;padding:0.05em 0.15em;border-radius:3px">'
        + esc(window.quote) + "</mark>"
        + esc(window.after) + (" …" if window.clipped_after else "")
    )
    return (
        '<div class="nd-source" style="margin:0.2rem 0 0.9rem 0">'
        f'<div><span style="{_MUTED};margin-right:0.35rem">[{citation.n}]</span>'
        f"{title_html(citation.title, citation.url, citation.article_id)}</div>"
        f'<div style="{_MUTED}">{esc(meta_line(citation.source, citation.published_at))}</div>'
        '<div class="nd-quote" style="margin-top:0.3rem;padding:0.1rem 0 0.1rem 0.75rem;'
        f'border-left:3px solid rgba(128,128,128,0.35);line-height:1.55">{quote}</div>'
        "</div>"
    )


def passage_card(n: int, passage: Passage, width: int = SNIPPET_CHARS) -> str:
    """A retrieved passage (for refusals and "Why these passages"): title, source, date, scores, a snippet."""
    chunk = passage.chunk
    text = _squash(chunk.text) or HEADLINE_ONLY
    snippet = text if len(text) <= width else text[: text.rfind(" ", 0, width) if " " in text[:width] else width] + " …"
    return (
        '<div class="nd-passage" style="margin:0.2rem 0 0.8rem 0">'
        f'<div><span style="{_MUTED};margin-right:0.35rem">({n})</span>'
        f"{title_html(chunk.title, chunk.url, chunk.article_id)}</div>"
        f'<div style="{_MUTED}">{esc(meta_line(chunk.source, chunk.published_at))} · {esc(score_line(passage))}</div>'
        f'<div style="margin-top:0.25rem;line-height:1.5">{esc(snippet)}</div>'
        "</div>"
    )


def score_line(passage: Passage) -> str:
    """The retrieval scores, '—' where a retriever did not return the passage (or its article's headline).

    >>> from rag.records import Chunk
    >>> score_line(Passage(Chunk("c", "a", 0, "t", 0, 1), {"dense": 0.5731, "fused": 0.0328}))
    'dense 0.573 · BM25 — · headline — · fused 0.0328'
    """
    scores = passage.scores
    return " · ".join(
        f"{label} {scores[key]:.{digits}f}" if key in scores else f"{label} —" for key, label, digits in SCORE_LABELS
    )


def annotate_answer(text: str, checks: Sequence[SentenceCheck]) -> str:
    """The answer as escaped markdown, each weak/unsupported sentence followed by a visible mark.

    >>> from rag.records import SentenceCheck
    >>> annotate_answer("Rain fell. It was 9 m.", [SentenceCheck("It was 9 m.", "unsupported", 0.1)])
    'Rain fell\\\\. It was 9 m\\\\. :orange-badge[:material/warning: not found in the sources]'
    """
    out: list[str] = []
    pos = 0
    # locate, not text.find: a check holds its sentence without the [n] markers the answer shows after it.
    for _, end, check in locate(text, checks):
        if check is None or check.verdict == "supported":
            continue
        out.append(escape_markdown(text[pos:end]) + f" :orange-badge[:material/warning: {NOT_FOUND}]")
        pos = end
    out.append(escape_markdown(text[pos:]))
    return "".join(out)


def _squash(text: str, keep_edges: bool = False) -> str:
    squashed = _SPACES.sub(" ", text)
    return squashed if keep_edges else squashed.strip()

