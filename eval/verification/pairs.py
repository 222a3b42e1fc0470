"""The labelled pairs of ``pairs.jsonl``, with RealTime QA passages read from the data folder at run time.

RealTime QA's README asks that its article texts not be redistributed inside this repository, so a pair drawn
from one of them stores a reference instead of the text: ``source`` (the article's ``id``, its url),
``start``/``end`` (character offsets into that article's ``text`` in ``articles-gold.jsonl``) and ``sha256``
(of the passage, so a changed data file stops the run instead of silently calibrating on other text). A
sentence copied from the article word for word (kind ``exact``) is stored the same way, as
``sentence_start``/``sentence_end``/``sentence_sha256``; sentences written for the set keep their text.
Pairs over the bundled article (``source`` under ``corpus/``) keep their ``passage`` text too.

The folder is ``$NEWSDESK_RTQA_DIR``, else ``../shared/data/realtimeqa-2022`` beside the repository (as for
``python -m eval.benchmark``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from eval.benchmark import DATA_ENV, default_data_dir
from rag.errors import InputError

ARTICLES = "articles-gold.jsonl"


def is_reference(pair: dict[str, Any]) -> bool:
    """Whether the pair points into a RealTime QA article instead of holding its passage."""
    return "passage" not in pair


def reference(article_text: str, span: str, prefix: str = "") -> dict[str, Any]:
    """The stored form of ``span``, which must occur exactly once in ``article_text`` (for writing new pairs).

    >>> ref = reference("Rain fell. Boats left.", "Boats left.", "sentence_")
    >>> ref["sentence_start"], ref["sentence_end"], ref["sentence_sha256"][:12]
    (11, 22, '848bddec438f')
    """
    if article_text.count(span) != 1:
        raise InputError(f"the span occurs {article_text.count(span)} times in the article; quote exactly one place")
    start = article_text.index(span)
    return {f"{prefix}start": start, f"{prefix}end": start + len(span), f"{prefix}sha256": _digest(span)}


def load_pairs(path: Path, rtqa_dir: Path | None = None) -> list[dict[str, Any]]:
    """Every pair of ``path``, each with its ``passage`` and ``sentence`` text.

    Args:
        path: the pairs file, one JSON object a line.
        rtqa_dir: the realtimeqa-2022 folder (default: see the module docstring); read only when a pair
            refers to it.

    Raises:
        InputError: the folder or an article is missing, or a referenced span no longer has its checksum.
    """
    raw = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    wanted = {str(p["source"]) for p in raw if is_reference(p)}
    texts = article_texts(rtqa_dir or default_data_dir(), wanted) if wanted else {}
    return [resolve(pair, texts) for pair in raw]


def article_texts(folder: Path, ids: set[str]) -> dict[str, str]:
    """The ``text`` of each article in ``ids``, from ``folder/articles-gold.jsonl``."""
    path = folder / ARTICLES
    if not path.is_file():
        raise InputError(
            f"{len(ids)} RealTime QA articles are needed to rebuild the pairs' passages, but {path} does not exist. "
            f"Set {DATA_ENV} (or pass --rtqa) to the realtimeqa-2022 folder, normally ../shared/data/realtimeqa-2022 "
            "beside the repository."
        )
    texts: dict[str, str] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                article = json.loads(line)
                if article.get("id") in ids:
                    texts[str(article["id"])] = str(article.get("text") or "")
    missing = sorted(ids - texts.keys())
    if missing:
        raise InputError(f"{len(missing)} articles the pairs refer to are not in {path} (first: {missing[0]}); "
                         "is it the RealTime QA 2022 conversion the pairs were written against?")
    return texts


def resolve(pair: dict[str, Any], texts: dict[str, str]) -> dict[str, Any]:
    """``pair`` with ``passage`` (and, for a copied sentence, ``sentence``) read from its article."""
    if not is_reference(pair):
        return dict(pair)
    text = texts[str(pair["source"])]
    resolved = {**pair, "passage": _span(pair, text, "")}
    if "sentence" not in pair:
        resolved["sentence"] = _span(pair, text, "sentence_")
    return resolved


def _span(pair: dict[str, Any], text: str, prefix: str) -> str:
    start, end = int(pair[f"{prefix}start"]), int(pair[f"{prefix}end"])
    span = text[start:end]
    if _digest(span) != pair[f"{prefix}sha256"]:
        raise InputError(
            f"pair {pair['id']}: characters {start}-{end} of {pair['source']} no longer match the stored sha256, so "
            f"{ARTICLES} is not the version the pairs were written against. Use that version (see the data "
            "folder's README) or write the pair's reference again (eval.verification.pairs.reference)."
        )
    return span


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
