"""Sentence-level verification: is each sentence of a generated answer said by the passages it cites?

For each answer sentence (``rag.claims.answer_sentences``: ``[n]`` markers stripped; the refusal sentence and
sentences without a content word or number are not checked) the evidence is the sentences of the passages it
cites — of all retrieved passages when it cites none, or only numbers that are no passage — and every pair of
those sentences, because answers often merge two. A pair's vector is the normalised sum of its two sentence
vectors (close to embedding the two as one text, and it costs no extra model call); its words, numbers and
names are the union of both, its negation that of the better of the two. Each candidate gets

    score = DENSE_WEIGHT * cosine(MiniLM(sentence), MiniLM(candidate))
          + LEXICAL_WEIGHT * share of the sentence's content words found in the candidate
          - MISSING_PENALTY   * each number or name of the sentence found in no candidate passage
          - ELSEWHERE_PENALTY * each number or name found in a candidate passage, but not in this candidate,
                                and each possible name (see below) found in no candidate passage
          - NEGATION_PENALTY  if the sentence is negated ("not", "never", "n't", ...) and the candidate is not
                              (half of it the other way round: a positive paraphrase of a negative source is
                              often fine, "unrelated to" for "has nothing to do with")
          - PAIR_PENALTY      if the candidate is a pair (so a single sentence wins a tie)

Content words leave out stop and function words and are compared by their first five letters after plural
folding (``rag.claims``); numbers by value, with their scale word and spelled counts ("$19 million" =
"19,000,000", "eight" = "8"); names are capitalised words not at the start of the sentence, plus a first word
that cannot be an ordinary word (acronym, mixed case, start of a multi-word name); a capitalised first word the
sources never use in lower case is a "possible name". A name also matches the initials of a multi-word name
("EU" = "European Union", "U.S." = "US"). Numbers and names weigh so much because that is where a fluent,
invented sentence differs from its source, while its embedding barely moves.

The best candidate decides: ``score >= thresholds.supported`` → ``supported``, ``>= thresholds.unsupported``
→ ``weak``, else ``unsupported``; its span (two adjacent sentences of one passage as one span, otherwise the
better of the two) is what the check quotes. The default thresholds come from
``python -m eval.verification.calibrate`` on ``eval/verification/pairs.jsonl`` (eval/README.md, "Verification").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.citations import MARKER, citation, passage_sentences
from rag.claims import (
    Claim,
    answer_sentences,
    claim,
    claim_text,
    content_keys,
    is_refusal,
    negated,
    numbers,
    vocabulary,
    word_keys,
)
from rag.records import REFUSAL, Citation, Passage, SentenceCheck

DENSE_WEIGHT = 0.6
LEXICAL_WEIGHT = 0.4
MISSING_PENALTY = 0.4
ELSEWHERE_PENALTY = 0.15
NEGATION_PENALTY = 0.3
PAIR_PENALTY = 0.03
PAIR_POOL = 10  # pairs are formed among this many best single sentences, which bounds the work per claim

PolicyMode = Literal["flag", "drop", "off"]


@dataclass(frozen=True)
class Thresholds:
    """Score cut-offs for the verdicts; the defaults are calibrated (eval/README.md, "Verification")."""

    # Chosen by `python -m eval.verification.calibrate` on the training two thirds of
    # eval/verification/pairs.jsonl; the numbers behind them are in eval/verification/results.json.
    supported: float = 0.72
    unsupported: float = 0.66


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Evidence:
    """What a candidate offers: its words (keys), numbers and whether it is negated."""

    words: frozenset[str]
    numbers: frozenset[str]
    negated: bool

    @classmethod
    def of(cls, text: str) -> Evidence:
        return cls(frozenset(word_keys(text)), frozenset(numbers(text)), negated(text))

    def __or__(self, other: Evidence) -> Evidence:
        # A pair is as negated as its better sentence (the left one): otherwise "Cosby was not found liable"
        # would borrow the "no" of "No punitive compensation was awarded." next to "found Cosby liable".
        return Evidence(self.words | other.words, self.numbers | other.numbers, self.negated)


@dataclass(frozen=True)
class _Sentence:
    passage: int  # index into the passages
    start: int  # chunk-relative offsets
    end: int
    text: str
    evidence: Evidence


def verify(
    answer_text: str, passages: Sequence[Passage], embedder: Embeddings, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> tuple[SentenceCheck, ...]:
    """One ``SentenceCheck`` per checked sentence of ``answer_text``, in order (see the module docstring).

    Args:
        answer_text: the answer as shown, with ``[n]`` markers numbering ``passages`` from 1.
        passages: the passages the answer was written from.
        embedder: MiniLM (any LangChain ``Embeddings``; vectors are normalised here).
        thresholds: verdict cut-offs.
    """
    items: list[tuple[str, list[int]]] = []
    for lo, hi in answer_sentences(answer_text):
        raw = answer_text[lo:hi]
        sentence = claim_text(raw)
        if is_refusal(sentence) or not (content_keys(sentence) or numbers(sentence)):
            continue  # "Here is what I found:" claims nothing
        cited = sorted({int(n) - 1 for n in MARKER.findall(raw) if 1 <= int(n) <= len(passages)})
        items.append((sentence, cited or list(range(len(passages)))))
    if not items:
        return ()
    sources = [_sentences(passage, i) for i, passage in enumerate(passages)]
    texts = list(dict.fromkeys([s for s, _ in items] + [x.text for group in sources for x in group]))
    vectors = dict(zip(texts, _normalised(embedder.embed_documents(texts)), strict=True))
    checks = []
    for sentence, cited in items:
        pool = "\n".join(f"{passages[i].chunk.title}\n{passages[i].chunk.text}" for i in cited)
        parts = claim(sentence, vocabulary(pool))
        pool_words, pool_numbers = word_keys(pool), numbers(pool)
        candidates = [x for i in cited for x in sources[i]]
        query = vectors[sentence]
        singles = sorted(
            (
                (score(parts, x.evidence, float(query @ vectors[x.text]), pool_words, pool_numbers), x)
                for x in candidates
            ),
            key=lambda pair: -pair[0],
        )
        best: tuple[float, tuple[_Sentence, ...]] = (singles[0][0], (singles[0][1],)) if singles else (0.0, ())
        for (_, a), (_, b) in itertools.combinations(singles[:PAIR_POOL], 2):
            joint = vectors[a.text] + vectors[b.text]
            cosine = float(query @ joint) / max(float(np.linalg.norm(joint)), 1e-12)
            value = score(parts, a.evidence | b.evidence, cosine, pool_words, pool_numbers, pair=True)
            if value > best[0]:
                best = (value, (a, b))  # a scored better alone
        checks.append(_check(sentence, best[1], best[0], passages, thresholds))
    return tuple(checks)


def score(
    parts: Claim, evidence: Evidence, cosine: float, pool_words: set[str], pool_numbers: set[str], pair: bool = False
) -> float:
    """The support score of one candidate for a sentence (formula: see the module docstring).

    >>> from rag.claims import claim
    >>> parts = claim("The jury awarded Huth $5 million.", set())
    >>> span = Evidence.of("The jury awarded Huth $500,000 in damages.")
    >>> round(score(parts, span, 0.9, {"huth", "jury"}, {"500000"}), 2)  # 0.6*0.9 + 0.4*3/4 ("million") - 0.4
    0.44
    """
    keys = parts.keys
    lexical = len(keys & evidence.words) / len(keys) if keys else 1.0
    value = DENSE_WEIGHT * cosine + LEXICAL_WEIGHT * lexical
    for number in parts.numbers - evidence.numbers:
        value -= ELSEWHERE_PENALTY if number in pool_numbers else MISSING_PENALTY
    for name in parts.names - evidence.words:
        value -= ELSEWHERE_PENALTY if name in pool_words else MISSING_PENALTY
    value -= ELSEWHERE_PENALTY * len(parts.possible_names - pool_words)
    if parts.negated and not evidence.negated:
        value -= NEGATION_PENALTY
    elif evidence.negated and not parts.negated:
        value -= NEGATION_PENALTY / 2
    return value - (PAIR_PENALTY if pair else 0.0)


def verdict(value: float, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Literal["supported", "weak", "unsupported"]:
    """``supported``, ``weak`` or ``unsupported`` for a score."""
    if value >= thresholds.supported:
        return "supported"
    return "weak" if value >= thresholds.unsupported else "unsupported"


def locate(text: str, checks: Sequence[SentenceCheck]) -> list[tuple[int, int, SentenceCheck | None]]:
    """Every sentence of ``text`` as (start, end, its check or None when it was not checked), markers included.

    The edges use it to mark flagged sentences where they stand in the answer.
    """
    pending = list(checks)
    found: list[tuple[int, int, SentenceCheck | None]] = []
    for lo, hi in answer_sentences(text):
        match = pending[0] if pending and claim_text(pending[0].sentence) == claim_text(text[lo:hi]) else None
        if match is not None:
            pending.pop(0)
        found.append((lo, hi, match))
    return found


def apply_policy(text: str, checks: Sequence[SentenceCheck], mode: PolicyMode) -> tuple[str, tuple[SentenceCheck, ...]]:
    """The answer text and checks to show under ``NEWSDESK_VERIFY=mode``.

    ``off``: the text unchanged and no checks. ``flag``: both unchanged (the edges mark what is not
    ``supported``). ``drop``: ``unsupported`` sentences removed with their markers, and the refusal (with no
    checks) when no checked sentence is left.

    >>> c = SentenceCheck("Dogs fly.", "unsupported", 0.1)
    >>> apply_policy("Cats purr [1]. Dogs fly [2].", (SentenceCheck("Cats purr.", "supported", 0.9), c), "drop")
    ('Cats purr [1].', (SentenceCheck(sentence='Cats purr.', verdict='supported', score=0.9, citation=None, \
article_id='', span='', start=-1, end=-1),))
    >>> apply_policy("Dogs fly [2].", (c,), "drop") == (REFUSAL, ())
    True
    """
    if mode == "off":
        return text, ()
    if mode == "flag":
        return text, tuple(checks)
    kept: list[SentenceCheck] = []
    pieces: list[str] = []
    cursor = 0
    for lo, hi, check in locate(text, checks):
        if check is not None and check.verdict == "unsupported":
            pieces.append(text[cursor:lo])
            cursor = hi
            while cursor < len(text) and text[cursor] in " \t":
                cursor += 1
        elif check is not None:
            kept.append(check)
    if not kept:
        return REFUSAL, ()
    remaining = "".join([*pieces, text[cursor:]]).strip()
    return re.sub(r"[ \t]+\n", "\n", remaining), tuple(kept)


def _sentences(passage: Passage, index: int) -> list[_Sentence]:
    text = passage.chunk.text
    bounds = passage_sentences(passage) or [(0, len(text))]
    return [_Sentence(index, lo, hi, text[lo:hi], Evidence.of(text[lo:hi])) for lo, hi in bounds]


def _check(
    sentence: str, members: tuple[_Sentence, ...], value: float, passages: Sequence[Passage], thresholds: Thresholds
) -> SentenceCheck:
    label = verdict(value, thresholds)
    if not members or label == "unsupported":
        return SentenceCheck(sentence, "unsupported", round(value, 4))
    ordered = sorted(members, key=lambda x: (x.passage, x.start))
    first, last = ordered[0], ordered[-1]
    if first.passage == last.passage and not passages[first.passage].chunk.text[first.end : last.start].strip():
        index, start, end = first.passage, first.start, last.end  # adjacent: quote both as one span
    else:
        index, start, end = members[0].passage, members[0].start, members[0].end
    cited = citation(index + 1, passages[index], start, end)
    return SentenceCheck(
        sentence=sentence,
        verdict=label,
        score=round(value, 4),
        citation=cited.n,
        article_id=cited.article_id,
        span=cited.quote,
        start=cited.start,
        end=cited.end,
    )


def _normalised(vectors: list[list[float]]) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    return array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)


def cite_unmarked(text: str, checks: Sequence[SentenceCheck]) -> str:
    """``text`` with a ``[n]`` added after each supported or weak sentence that carries no marker, ``n`` being
    the passage that holds its supporting span: the verifier's span becomes the sentence's citation.

    >>> check = SentenceCheck("Cats purr.", "supported", 0.9, citation=2)
    >>> cite_unmarked("Cats purr. Dogs bark [1].", (check, SentenceCheck("Dogs bark.", "supported", 0.9, 1)))
    'Cats purr. [2] Dogs bark [1].'
    """
    pieces: list[str] = []
    cursor = 0
    for lo, hi, check in locate(text, checks):
        if check is None or check.citation is None or check.verdict == "unsupported":
            continue
        if MARKER.search(text[lo:hi]):
            continue
        pieces.append(text[cursor:hi] + f" [{check.citation}]")
        cursor = hi
    return "".join(pieces) + text[cursor:]


def span_citations(checks: Sequence[SentenceCheck], passages: Sequence[Passage]) -> list[Citation]:
    """The supporting span of every supported or weak sentence, as a citation of its passage."""
    found = []
    for check in checks:
        if check.citation is None or check.verdict == "unsupported" or not 1 <= check.citation <= len(passages):
            continue
        chunk = passages[check.citation - 1].chunk
        found.append(
            Citation(
                n=check.citation,
                article_id=check.article_id,
                title=chunk.title,
                url=chunk.url,
                published_at=chunk.published_at,
                quote=check.span,
                start=check.start,
                end=check.end,
                source=chunk.source,
            )
        )
    return found
