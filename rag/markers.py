"""Repairing the ``[n]`` citation markers a model writes, so each one points at a passage it was given."""

from __future__ import annotations

import re

# One bracket group (not a Markdown link "[text](url)"), with the horizontal space around it.
_GROUP = re.compile(r"(?P<space>[ \t]*)\[(?P<body>[^\[\]\n]{0,40})\](?!\()(?P<trail>[ \t]*)")
_NUMBERS = re.compile(
    r"(?:(?:passages?|sources?|refs?|docs?|documents?|citations?)\s*)?"
    r"(?P<list>\^?\d+(?:\s*[-–]\s*\d+)?(?:\s*(?:,|;|&|and)\s*\^?\d+(?:\s*[-–]\s*\d+)?)*)",
    re.IGNORECASE,
)
_ITEM = re.compile(r"(\d+)(?:\s*[-–]\s*(\d+))?")
_MARKER_WORDS = ("passage", "source", "ref", "doc", "document", "citation", "cite", "n", "number")
_KEEP = {"sic", "...", "…"}  # editorial brackets that belong to quoted text
_RUN = re.compile(r"\[(\d+)\](?:[ \t]*\[\d+\])+")
# The prompt's own delimiters, which small models sometimes copy into their answer.
_DELIMITER = re.compile(r"[ \t]*</?(?:passage|history|turn)\b[^<>\n]*>[ \t]*\n?", re.IGNORECASE)


def repair_markers(text: str, n_passages: int) -> str:
    """``text`` with every citation marker pointing at one of passages 1..``n_passages``, written ``[n]``.

    Markers naming no passage (``[0]``, ``[7]`` of 5, ``[abc]``, ``[source]``) are dropped with the space
    before them; lists and ranges (``[1, 2]``, ``[1-3]``, ``[Passage 2]``) become ``[1][2]``; neighbouring
    markers are joined and deduplicated. Brackets holding ordinary words ("[the mayor]"), ``[sic]`` and
    Markdown links are left alone. Prompt delimiters the model copied (``<passage n="1">``) are removed.

    >>> repair_markers("Rates rose [1, 2]. Prices fell [7]. Wages held [abc] [2] [2].", 5)
    'Rates rose [1][2]. Prices fell. Wages held [2].'
    >>> repair_markers("See [Passage 3] and [0]; [1-2]", 3)
    'See [3] and; [1][2]'
    """
    text = _DELIMITER.sub("", text)
    repaired = _GROUP.sub(lambda m: _replace(m, text, n_passages), text)
    return _RUN.sub(_join_run, repaired)


def _replace(match: re.Match[str], text: str, n_passages: int) -> str:
    body = match.group("body").strip()
    numbers = _numbers(body)
    if numbers is not None:
        valid = [n for n in dict.fromkeys(numbers) if 1 <= n <= n_passages]
        if valid:
            return match.group("space") + "".join(f"[{n}]" for n in valid) + match.group("trail")
    elif not _is_marker_attempt(body):
        return match.group(0)
    # Dropped with the space before it; at the start of a line the space after it goes too.
    before = text[match.start() - 1] if match.start() else "\n"
    after = text[match.end()] if match.end() < len(text) else "\n"
    if before == "\n" and not match.group("space"):
        return ""
    if not match.group("trail") and before.isalnum() and after.isalnum():
        return " "  # "a [9]b": keep the words apart
    return match.group("trail")


def _numbers(body: str) -> list[int] | None:
    """The passage numbers a bracket body names, or None when it is not a numeric marker."""
    found = _NUMBERS.fullmatch(body)
    if not found:
        return None
    numbers: list[int] = []
    for first, last in _ITEM.findall(found.group("list")):
        lo = int(first)
        hi = int(last) if last else lo
        numbers.extend(range(lo, min(hi, lo + 50) + 1) if hi >= lo else [lo])
    return numbers


def _is_marker_attempt(body: str) -> bool:
    """A bracket meant as a citation but naming no number: ``[abc]``, ``[n]``, ``[citation needed]``, ``[]``."""
    if body.lower() in _KEEP:
        return False
    words = body.split()
    if len(words) <= 1:
        return len(body) <= 20
    return words[0].lower().rstrip(":#") in _MARKER_WORDS


def _join_run(match: re.Match[str]) -> str:
    numbers = dict.fromkeys(re.findall(r"\d+", match.group(0)))
    return "".join(f"[{n}]" for n in numbers)
