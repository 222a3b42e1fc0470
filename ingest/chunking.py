"""Articles → chunks: token windows that break at sentence ends and never exceed what MiniLM reads."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from rag.records import Article, Chunk, indexed_text
from rag.sentences import sentence_spans
from rag.tokens import count_tokens

Span = tuple[int, int]
_WORD = re.compile(r"\S+")


def chunk_spans(text: str, max_tokens: int, overlap: int, count: Callable[[str], int] = count_tokens) -> list[Span]:
    """Character spans of ``text`` packed from whole sentences up to ``max_tokens`` tokens each.

    Neighbouring chunks share trailing sentences worth at most ``overlap`` tokens. A sentence longer than
    ``max_tokens`` is cut at word boundaries (and a word longer than that, by characters).

    >>> chunk_spans("One. Two. Three.", max_tokens=4, overlap=0)
    [(0, 9), (10, 16)]
    >>> chunk_spans("", max_tokens=10, overlap=2)
    []
    """
    units = [(lo, hi, count(text[lo:hi])) for lo, hi in sentence_spans(text)]
    units = [piece for unit in units for piece in _split_long(text, unit, max_tokens, count)]
    chunks: list[Span] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][2] <= max_tokens):
            total += units[j][2]
            j += 1
        chunks.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # Step back over whole sentences worth <= overlap tokens, but always move forward.
        back, carried = j, 0
        while back - 1 > i and carried + units[back - 1][2] <= overlap:
            back -= 1
            carried += units[back][2]
        i = back
    return chunks


def _split_long(
    text: str, unit: tuple[int, int, int], max_tokens: int, count: Callable[[str], int]
) -> list[tuple[int, int, int]]:
    lo, hi, tokens = unit
    if tokens <= max_tokens:
        return [unit]
    pieces: list[tuple[int, int, int]] = []
    start, total, last_end = lo, 0, lo
    for match in _WORD.finditer(text, lo, hi):
        spaced = count(" " + match.group())
        if total and total + spaced <= max_tokens:
            total += spaced
            last_end = match.end()
            continue
        if total:
            pieces.append((start, last_end, total))
        # A piece's first word has no space before it, and cl100k may count it differently without one.
        start, total, last_end = match.start(), count(match.group()), match.end()
        if total > max_tokens:  # one enormous "word": cut it by characters
            step, cut = max_tokens * 2, match.start()
            while cut < match.end():
                end = min(cut + step, match.end())
                tokens = count(text[cut:end])
                # Two characters a token holds for Latin text only (CJK, emoji, base64 pack far more): shrink.
                while tokens > max_tokens and end - cut > 1:
                    end = cut + max(1, (end - cut) * max_tokens // tokens)
                    tokens = count(text[cut:end])
                pieces.append((cut, end, tokens))
                cut = end
            total = 0
    if total:
        pieces.append((start, last_end, total))
    return pieces


def chunk_id(article_id: str, start: int, end: int, embedded: str) -> str:
    """Content-derived id: the same article text chunked the same way always gets the same ids."""
    payload = "\x1f".join((article_id, str(start), str(end), embedded))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def chunk_article(
    article: Article, max_tokens: int, overlap: int, fits: Callable[[str], bool] | None = None
) -> list[Chunk]:
    """The chunks of ``article``; each one's indexed text is checked with ``fits`` (the embedder's tokenizer)
    and halved until it fits, because cl100k tokens and MiniLM wordpieces do not count alike."""
    spans = chunk_spans(article.text, max_tokens, overlap)
    if not article.text:  # a headline-only article (a link whose page had no text): its title is what is indexed
        spans = [(0, 0)]
    elif fits is not None:
        spans = [piece for span in spans for piece in _fit(article, span, max_tokens, fits)]
    return [
        Chunk(
            id=chunk_id(article.id, lo, hi, indexed_text(article.title, article.text[lo:hi])),
            article_id=article.id,
            position=position,
            text=article.text[lo:hi],
            start=lo,
            end=hi,
            title=article.title,
            url=article.url,
            source=article.source,
            published_at=article.published_at,
        )
        for position, (lo, hi) in enumerate(spans)
    ]


def _fit(article: Article, span: Span, max_tokens: int, fits: Callable[[str], bool]) -> list[Span]:
    lo, hi = span
    if fits(indexed_text(article.title, article.text[lo:hi])):
        return [span]
    budget = max(8, max_tokens // 2)
    inner = chunk_spans(article.text[lo:hi], budget, 0)
    if len(inner) <= 1:  # cannot split further at word level: cut the characters in half
        mid = lo + (hi - lo) // 2
        if mid in (lo, hi):
            return [span]
        return _fit(article, (lo, mid), budget, fits) + _fit(article, (mid, hi), budget, fits)
    return [piece for a, b in inner for piece in _fit(article, (lo + a, lo + b), budget, fits)]
