"""Sources by article, as the page shows them: one card per cited article with every quote in its context.

Built only from ``html.escape``-d pieces and our own tags (see ``ui.render``); article text never becomes markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.numbering import SourceArticle
from rag.records import Citation, Passage, Reported, also_reported
from ui.render import _MUTED, CONTEXT_CHARS, _squash, esc, meta_line, title_html

_MARK_STYLE = "background:rgba(255,205,40,0.45);color:inherit;padding:0.05em 0.15em;border-radius:3px"
_ESCAPED_MARKER = re.compile(r"\\\[(\d+)\\\]")


@dataclass(frozen=True)
class Excerpt:
    """A stretch of an article with the quoted parts flagged: ``parts`` is (text, quoted) in reading order."""

    parts: tuple[tuple[str, bool], ...]
    clipped_before: bool = False
    clipped_after: bool = False


def segments(passages: Sequence[Passage], article_id: str) -> list[tuple[int, str]]:
    """The parts of an article its retrieved chunks cover, as (article offset, text), overlaps merged.

    >>> from rag.records import Chunk
    >>> text = "One two. Three four. Five six."
    >>> ps = [Passage(Chunk("b", "a", 1, text[9:30], 9, 30)), Passage(Chunk("a", "a", 0, text[0:20], 0, 20))]
    >>> segments(ps, "a")
    [(0, 'One two. Three four. Five six.')]
    """
    spans = sorted((p.chunk.start, p.chunk.text) for p in passages if p.chunk.article_id == article_id and p.chunk.text)
    merged: list[tuple[int, str]] = []
    for start, text in spans:
        if merged and start <= merged[-1][0] + len(merged[-1][1]):
            lo, have = merged[-1]
            merged[-1] = (lo, have + text[lo + len(have) - start :])
        else:
            merged.append((start, text))
    return merged


def excerpts(text: str, spans: Sequence[tuple[int, int]], width: int = CONTEXT_CHARS) -> list[Excerpt]:
    """Each span of ``text`` with ``width`` characters around it; spans whose context overlaps share an excerpt.

    >>> [e.parts for e in excerpts("aa bb cc dd ee", [(3, 5), (9, 11)], width=3)]
    [(('aa ', False), ('bb', True), (' cc ', False), ('dd', True), (' ee', False))]
    """
    out: list[Excerpt] = []
    groups: list[list[tuple[int, int]]] = []
    for start, end in sorted(spans):
        if groups and start - width <= groups[-1][-1][1] + width:
            groups[-1].append((start, max(end, groups[-1][-1][1])))
        else:
            groups.append([(start, end)])
    for group in groups:
        lo, hi = max(0, group[0][0] - width), min(len(text), group[-1][1] + width)
        if lo > 0 and " " in text[lo : group[0][0]]:  # start and end on whole words
            lo = text.index(" ", lo, group[0][0]) + 1
        if hi < len(text) and " " in text[group[-1][1] : hi]:
            hi = text.rindex(" ", group[-1][1], hi)
        parts: list[tuple[str, bool]] = []
        pos = lo
        for start, end in group:
            start = max(start, pos)
            if start > pos:
                parts.append((text[pos:start], False))
            if end > start:
                parts.append((text[start:end], True))
            pos = max(pos, end)
        if hi > pos:
            parts.append((text[pos:hi], False))
        out.append(Excerpt(tuple(parts), clipped_before=lo > 0, clipped_after=hi < len(text)))
    return out


def excerpt_html(excerpt: Excerpt, squash: bool = True) -> str:
    """An excerpt as escaped HTML with its quotes in ``<mark>``; line breaks kept when ``squash`` is off."""

    def piece(text: str) -> str:
        shown = esc(_squash(text, keep_edges=True) if squash else text)
        return shown if squash else shown.replace("\n", "<br>")

    body = "".join(
        f'<mark style="{_MARK_STYLE}">{piece(t)}</mark>' if quoted else piece(t) for t, quoted in excerpt.parts
    )
    return ("… " if excerpt.clipped_before else "") + body + (" …" if excerpt.clipped_after else "")


def anchor_id(turn: int, n: int) -> str:
    """The HTML id of source ``n`` of turn ``turn``, which ``[n]`` in that answer links to."""
    return f"nd-src-{turn}-{n}"


def link_markers(markdown: str, turn: int, numbers: set[int]) -> str:
    """Escaped markdown whose ``\\[n\\]`` markers (for ``n`` in ``numbers``) link to their source cards.

    >>> link_markers("Rain\\\\. \\\\[1\\\\] \\\\[7\\\\]", 0, {1})
    'Rain\\\\. [\\\\[1\\\\]](#nd-src-0-1) \\\\[7\\\\]'
    """

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"[{match.group(0)}](#{anchor_id(turn, n)})" if n in numbers else match.group(0)

    return _ESCAPED_MARKER.sub(link, markdown)


def article_card(source: SourceArticle, passages: Sequence[Passage], turn: int) -> str:
    """One cited article under an answer: ``[n]`` title (linked), source and date, each quote in its context."""
    found = segments(passages, source.article_id)
    blocks: list[str] = []
    loose: list[Citation] = []
    for seg_start, seg_text in found:
        spans = [(c.start - seg_start, c.end - seg_start) for c in source.citations
                 if seg_start <= c.start and c.end <= seg_start + len(seg_text)]
        blocks += [excerpt_html(e) for e in excerpts(seg_text, spans)]
    for cited in source.citations:
        if not any(s <= cited.start and cited.end <= s + len(t) for s, t in found):
            loose.append(cited)
    blocks += [excerpt_html(Excerpt(((c.quote, True),))) for c in loose]
    quotes = "".join(
        '<div class="nd-quote" style="margin-top:0.3rem;padding:0.1rem 0 0.1rem 0.75rem;'
        f'border-left:3px solid rgba(128,128,128,0.35);line-height:1.55">{block}</div>'
        for block in blocks
    )
    return (
        f'<div class="nd-source" id="{anchor_id(turn, source.n)}" '
        'style="margin:0.2rem 0 0.4rem 0;scroll-margin-top:4rem">'
        f'<div><span style="{_MUTED};margin-right:0.35rem">[{source.n}]</span>'
        f"{title_html(source.title, source.url, source.article_id)}</div>"
        f'<div style="{_MUTED}">{esc(meta_line(source.source, source.published_at))}</div>'
        f"{also_html(source.citations[0].also if source.citations else ())}{quotes}</div>"
    )


def also_html(members: tuple[Reported, ...]) -> str:
    """The story's other pages under a source card, folded: "also reported by CNN, USA Today (2)" ("" if none)."""
    if not members:
        return ""
    items = "".join(
        f"<li>{title_html(m.title, m.url, m.article_id)} "
        f'<span style="{_MUTED}">{esc(meta_line(m.source, m.published_at))}</span></li>'
        for m in members
    )
    return (f'<details class="nd-also" style="{_MUTED};margin-top:0.2rem"><summary style="cursor:pointer">'
            f'{esc(also_reported(members))}</summary><ul style="margin:0.2rem 0 0 1rem">{items}</ul></details>')


def article_html(text: str, citations: Sequence[Citation]) -> str:
    """A whole article as escaped HTML, paragraphs kept, every cited span highlighted (by article offsets)."""
    spans = [(c.start, c.end) for c in citations if 0 <= c.start <= c.end <= len(text)]
    [whole] = excerpts(text, spans or [(0, 0)], width=len(text) + 1)
    return f'<div class="nd-article" style="line-height:1.6">{excerpt_html(whole, squash=False)}</div>'
