"""Articles that tell one story grouped: copies by MinHash, other outlets' coverage by their ledes' meaning.

Each article's text becomes a set of word 5-shingles; a 128-value MinHash signature estimates the Jaccard
similarity of two sets, and locality-sensitive hashing (64 bands of 2 rows) finds the pairs worth comparing
without comparing all of them. Two articles are one story when their dates are at most ``window_days`` apart
(an undated article matches any date) and either their estimated similarity is at least ``threshold`` or the
shorter one is nearly all inside the longer (``containment``: a copy cut short by its crawler). One page under
several addresses (``rag.urls.canonical_url``) is one story whatever its texts say: a live page crawled twice
reads differently each time. Shingles found in more than ``max_df`` articles are boilerplate (newsletter
sign-ups, consent notices, "most read" lists) and are dropped first; a text left with almost none of its own is
grouped by address only. Groups are the connected pairs (union-find). Measured with ``python -m eval.stories``
(eval/README.md, "One story").

``group_stories`` does it all at once; ``ingest.story_index`` keeps each stored article's shingles and
signature in the data dir, signs only new and changed articles at ingest, and re-links the stories from the
stored signatures (``common_shingles`` and ``link_stories``). The retrieval stage
``rag.retrieval.stories.OneStory`` then shows a story once, with its other outlets.

Copies share shingles; two outlets writing their own stories about one event do not. Those are joined by
meaning instead (``coverage_pairs``): the vectors of the two articles' lead passages (headline and lede, the
embedder's own) at cosine ``coverage`` or more, from different outlets, both dated and at most ``window_days``
apart. One outlet's own follow-ups are not joined this way: "also reported by" names other outlets.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from rag.urls import canonical_url

_WORD = re.compile(r"\w+")
_EMPTY = np.iinfo(np.uint64).max


@dataclass(frozen=True)
class StoryConfig:
    """The grouping's knobs, measured on the RealTime QA 2022 corpus (eval/README.md, "One story")."""

    shingle: int = 5  # words per shingle
    permutations: int = 128
    bands: int = 64  # 64 bands x 2 rows: pairs above ~0.15 similarity are likely to share a band (cheap here)
    threshold: float = 0.5  # estimated Jaccard similarity of the shingle sets
    containment: float = 0.8  # share of the shorter article's shingles found in the longer one
    min_shingles: int = 50  # containment only for texts this long (after common shingles are dropped)
    min_own: int = 10  # a text with fewer shingles of its own is all boilerplate: grouped by address only
    max_df: int = 8  # a shingle in more articles than this is boilerplate (bylines, newsletter sign-ups), dropped
    window_days: int = 3
    seed: int = 18
    # Different outlets' own coverage of one event: cosine of the articles' lead passages (headline and lede,
    # MiniLM) at least this, dated within ``window_days``. Chosen on the RealTime QA 2023 articles by hand: at
    # 0.85 all 7 cross-outlet pairs were one event, at 0.80 about 3 of 20 were not (eval/README.md, "One story").
    coverage: float = 0.85


@dataclass(frozen=True)
class Doc:
    """What grouping needs of an article."""

    id: str
    text: str
    published_at: str = ""
    url: str = ""  # the address it was read from; "" when its id is the address

    @property
    def page(self) -> str:
        """The page it is, written one way ("" when neither its url nor its id is a web address)."""
        return canonical_url(self.url or self.id)


@dataclass(frozen=True)
class Signed:
    """An article as linking sees it: the MinHash signature of its own shingles (boilerplate dropped)."""

    id: str
    published_at: str
    page: str
    signature: np.ndarray
    size: int  # how many shingles of its own it has


def shingles(text: str, size: int = 5) -> np.ndarray:
    """The article's distinct word ``size``-shingles as 32-bit hashes (crc32: stable across processes).

    >>> len(shingles("one two three four five six")), len(shingles("too short"))
    (2, 1)
    """
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return np.array([zlib.crc32(" ".join(words).encode())], dtype=np.uint64)
    found = {zlib.crc32(" ".join(words[i : i + size]).encode()) for i in range(len(words) - size + 1)}
    return np.fromiter(found, dtype=np.uint64, count=len(found))


class MinHasher:
    """MinHash signatures under one fixed family of hash functions: multiply-shift, ``(a*x + b) mod 2**64``
    with ``a`` odd, keeping the high 32 bits (the textbook ``(a*x + b) mod p`` needs 128-bit products here,
    and with 64 bits it favours small ``x``)."""

    def __init__(self, config: StoryConfig = StoryConfig()) -> None:
        self.config = config
        rng = np.random.default_rng(config.seed)
        high = np.iinfo(np.uint64).max
        self.a = rng.integers(1, high, size=config.permutations, dtype=np.uint64, endpoint=True) | np.uint64(1)
        self.b = rng.integers(0, high, size=config.permutations, dtype=np.uint64, endpoint=True)

    def signature(self, text: str) -> np.ndarray:
        return self.signature_of(shingles(text, self.config.shingle))

    def signature_of(self, hashed: np.ndarray) -> np.ndarray:
        """The signature of a set of shingle hashes (all ``_EMPTY`` for an empty set)."""
        if not len(hashed):
            return np.full(self.config.permutations, _EMPTY, dtype=np.uint64)
        with np.errstate(over="ignore"):  # wrapping modulo 2**64 is the hash
            values = (np.outer(hashed, self.a) + self.b) >> np.uint64(32)
        return values.min(axis=0)


def similarity(one: np.ndarray, other: np.ndarray) -> float:
    """Estimated Jaccard similarity: the share of equal signature values."""
    return float(np.mean(one == other))


def common_shingles(sets: Sequence[np.ndarray], config: StoryConfig = StoryConfig()) -> np.ndarray:
    """The shingles found in more than ``max_df`` of ``sets`` (boilerplate), sorted."""
    if not sets:
        return np.array([], dtype=np.uint64)
    values, counts = np.unique(np.concatenate(sets), return_counts=True)
    return values[counts > config.max_df]


def sign(doc: Doc, hashed: np.ndarray, common: np.ndarray, hasher: MinHasher) -> Signed:
    """``doc`` signed over its shingles ``hashed`` less the ``common`` ones."""
    own = hashed[~np.isin(hashed, common)]
    return Signed(doc.id, doc.published_at, doc.page, hasher.signature_of(own), len(own))


def group_stories(docs: Sequence[Doc], config: StoryConfig = StoryConfig()) -> list[list[str]]:
    """The groups of two or more articles that are one story (ids in input order, groups by first member)."""
    hasher = MinHasher(config)
    sets = [shingles(d.text, config.shingle) for d in docs]
    common = common_shingles(sets, config)
    return link_stories([sign(d, s, common, hasher) for d, s in zip(docs, sets, strict=True)], config)


def link_stories(signed: Sequence[Signed], config: StoryConfig = StoryConfig(),
                 coverage: Sequence[tuple[int, int]] = ()) -> list[list[str]]:
    """The groups of two or more signed articles that are one story (ids in input order, groups by first member).
    ``coverage`` are index pairs already found to cover one event (``coverage_pairs``)."""
    parent = list(range(len(signed)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        parent[root(j)] = root(i)

    first_of_page: dict[str, int] = {}
    for i, doc in enumerate(signed):
        if doc.page:
            join(first_of_page.setdefault(doc.page, i), i)
    for i, j in sorted(_candidates([d.signature for d in signed], config)):
        one, other = signed[i], signed[j]
        if min(one.size, other.size) < config.min_own or root(i) == root(j):
            continue
        if _close_in_time(one.published_at, other.published_at, config.window_days) and \
                _one_story(similarity(one.signature, other.signature), one.size, other.size, config):
            join(i, j)
    for i, j in coverage:
        join(i, j)
    groups: dict[int, list[str]] = defaultdict(list)
    for i, doc in enumerate(signed):
        groups[root(i)].append(doc.id)
    return [ids for ids in groups.values() if len(ids) > 1]


def _candidates(signatures: list[np.ndarray], config: StoryConfig) -> set[tuple[int, int]]:
    """Pairs that share at least one band of their signatures (LSH)."""
    rows = config.permutations // config.bands
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for i, sig in enumerate(signatures):
        for band in range(config.bands):
            buckets[(band, sig[band * rows : (band + 1) * rows].tobytes())].append(i)
    return {(i, j) for members in buckets.values() for pos, i in enumerate(members) for j in members[pos + 1 :]}


def _one_story(jaccard: float, size_a: int, size_b: int, config: StoryConfig) -> bool:
    """Near-identical, or the shorter text nearly all inside the longer (containment from Jaccard and sizes).

    >>> _one_story(0.6, 100, 100, StoryConfig()), _one_story(0.24, 250, 1000, StoryConfig())
    (True, True)
    >>> _one_story(0.24, 25, 100, StoryConfig()), _one_story(0.1, 500, 1000, StoryConfig())
    (False, False)
    """
    if jaccard >= config.threshold:
        return True
    shorter = min(size_a, size_b)
    if shorter < config.min_shingles:
        return False
    shared = jaccard * (size_a + size_b) / (1 + jaccard)
    return shared / shorter >= config.containment


def _close_in_time(one: str, other: str, window: int) -> bool:
    """Whether two ISO dates are within ``window`` days (an unknown or unreadable date matches any).

    >>> _close_in_time("2022-06-14", "2022-06-20", 3), _close_in_time("2022-06-14", "", 3)
    (False, True)
    """
    try:
        first, second = date.fromisoformat(one[:10]), date.fromisoformat(other[:10])
    except ValueError:
        return True
    return abs((first - second).days) <= window


def coverage_pairs(days: Sequence[str], outlets: Sequence[str], vectors: np.ndarray,
                   config: StoryConfig = StoryConfig()) -> list[tuple[int, int]]:
    """Index pairs of articles from different outlets, both dated, at most ``window_days`` apart, whose lead
    passages' vectors (rows of ``vectors``; zero rows for articles without one) reach ``config.coverage``.

    Compared day by day against the next ``window_days`` days only, so the cost grows with the news of a week,
    not with the square of the archive.

    >>> v = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0], [1.0, 0.0]])
    >>> coverage_pairs(["2022-06-14", "2022-06-15", "2022-06-15", "2022-06-30"], ["cnn", "usat", "bbc", "bbc"], v)
    [(0, 1)]
    """
    norms = np.linalg.norm(vectors, axis=1)
    by_day: dict[int, list[int]] = defaultdict(list)
    for i, published in enumerate(days):
        if published and norms[i] > 0:
            by_day[date.fromisoformat(published[:10]).toordinal()].append(i)
    unit = vectors / np.where(norms > 0, norms, 1.0)[:, None]
    found: list[tuple[int, int]] = []
    for day, here in sorted(by_day.items()):
        today = set(here)
        near = [j for d in range(day, day + config.window_days + 1) for j in by_day.get(d, [])]
        sims = unit[here] @ unit[near].T
        for a, b in zip(*np.nonzero(sims >= config.coverage), strict=True):
            i, j = here[a], near[b]
            if i != j and (j not in today or i < j) and outlets[i] != outlets[j]:
                found.append((min(i, j), max(i, j)))
    return sorted(set(found))
