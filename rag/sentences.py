"""Sentence spans by character offset (nupunkt: offline, abbreviation-aware)."""

from __future__ import annotations

import re

import nupunkt

_BREAK = re.compile(r"\n\s*\n")  # a blank line always ends a sentence, even without punctuation
# Titles nupunkt's model does not know as abbreviations; it ends a sentence after them, which cut answers such as
# "… best known for her portrayal of Lt." off before the name.
_TITLE_BEFORE_NAME = re.compile(r"(?:^|\s)(?:Lt|Lts|Cmdr|Pfc|Msgr|Gens|Reps|Govs)\.$")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Non-empty sentences of ``text`` as (start, end) offsets, surrounding white space excluded.

    >>> sentence_spans("Mr. Smith went to Washington. He met U.S. officials.\\n\\nHeadline")
    [(0, 29), (30, 52), (54, 62)]
    >>> len(sentence_spans("She played Lt. Nyota Uhura. She was 89."))
    2
    """
    spans: list[tuple[int, int]] = []
    block_start = 0
    for block_end, next_start in [*((m.start(), m.end()) for m in _BREAK.finditer(text)), (len(text), len(text))]:
        block = text[block_start:block_end]
        joined = False
        for lo, hi in nupunkt.sent_spans(block) if block.strip() else []:
            lo, hi = _strip(block, lo, hi)
            if hi <= lo:
                continue
            if joined:
                spans[-1] = (spans[-1][0], block_start + hi)
            else:
                spans.append((block_start + lo, block_start + hi))
            joined = bool(_TITLE_BEFORE_NAME.search(block[lo:hi]))
        block_start = next_start
    return spans


def _strip(text: str, lo: int, hi: int) -> tuple[int, int]:
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return lo, hi
