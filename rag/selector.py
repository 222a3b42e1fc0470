"""The fitted sentence selector: what describes a candidate sentence, and the small model that scores it.

Each candidate sentence of the retrieved passages is described by the features in ``FEATURES`` (how close it
is to the question in meaning and in words, whether it holds the kind of answer asked for, where it sits and
how its passage was ranked) and scored by a model fitted on RealTime QA 2023 (``eval/fit_selector.py``; the
card is ``rag/models/selector.md``). The score is the probability that the sentence contains the answer; the
answerer refuses when no sentence reaches the level chosen on the training data for a stated false-refusal
rate. No hand-set weights: the model file holds every number.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer_types import answer_type, could_answer
from rag.citations import content_stems
from rag.errors import ModelError
from rag.places import names_place, place_asked
from rag.questions import answer_names
from rag.records import Passage

MODEL_FILE = Path(__file__).resolve().parent / "models" / "selector.json"

FEATURES = (
    "dense",  # cosine(question, sentence); first, so cached rows can be re-described without re-embedding
    "dense_gap",  # dense minus the best dense of this question's candidates
    "dense_prev",  # cosine(question, the sentence before in its passage), 0 when none
    "dense_next",
    "lexical",  # share of the question's content words the sentence holds
    "lexical_gap",
    "lexical_window",  # ... that the sentence and its two neighbours hold
    "idf_overlap",  # the same share weighted by rarity among the candidates
    "idf_gap",
    "typed",  # holds the kind of answer the question asks for (a number, a time, a name)
    "novel",  # names something (a name, a number) the question does not
    "new_names",  # how many such names and numbers
    "echo",  # adds (almost) nothing to the question
    "refers_back",  # opens with a pronoun or "The <noun>"
    "passage_rank",  # 0 = the best passage
    "lead_article",  # from the best passage's article
    "passage_fused_gap",  # the passage's fused score minus the best passage's
    "passage_dense",
    "passage_bm25_share",  # the passage's BM25 over the best passage BM25
    "title_match",  # the passage's headline matched the question (BM25 title score > 0)
    "title_overlap",  # share of the question's content words in the headline
    "article_offset",  # log(1 + characters before the sentence in its article)
    "sentence_index",  # the sentence's position in its passage
    "length",  # log(characters)
    "name_support",  # the largest share of the other retrieved articles that mention one of the sentence's new names
    "name_support_mean",
    "name_in_headlines",  # one of the sentence's new names is in a retrieved headline
    # What matters depends on what is asked: a name for "which/who/where", the question's own words for
    # "why/how/what happened". Features that are the same for every sentence of a question would only shift
    # its probabilities, not rank them, so the kind of question enters through these products alone.
    "entity_novel",
    "entity_support",
    "entity_in_headlines",
    "explain_lexical",
    "explain_idf",
    "explain_dense",
    "place_named",  # the question asks which country or state, and the sentence names one it does not
)
_NAME_OR_NUMBER = re.compile(r"\b(?:[A-Z][\w'’.-]*|\d[\d,.]*)")
_WHAT_OPEN = re.compile(r"\s+(?:is|are|was|were|do|does|did|has|have|had|could|would|can|will|should|might|may)\b",
                        re.IGNORECASE)
_OPENING = re.compile(r"\b(which|what|who|whom|whose|where|when|how|why)\b", re.IGNORECASE)
_REFERS_BACK = re.compile(r"^[\"“‘(]?(?:(?:He|She|It|They|His|Her|Its|Their|This|These|Those)\b|The [a-z])")
_FILLER = frozenset("the a an in on at but and or as it its this that these those he she they we i cnn".split())


@dataclass(frozen=True)
class Span:
    """A candidate: chunk-relative ``[start:end]`` of passage ``passage_index``."""

    passage_index: int
    start: int
    end: int
    text: str


@functools.lru_cache(maxsize=8192)
def stems(text: str) -> frozenset[str]:
    """Content words of ``text`` (folded plurals), cached: each sentence is compared several times."""
    return frozenset(content_stems(text))


def refers_back(text: str) -> bool:
    """Whether a sentence opens by referring to something named before it.

    >>> refers_back("She was 89."), refers_back("The band will reunite."), refers_back("Blink-182 is back.")
    (True, True, False)
    """
    return bool(_REFERS_BACK.match(text))


def new_names(sentence: str, question: str) -> list[str]:
    """The names and numbers ``sentence`` holds that ``question`` does not (its first word aside), as written.

    >>> new_names("Ford recalled 2.9 million cars in Detroit.", "Which automaker recalled cars?")
    ['2.9', 'Detroit']
    """
    asked = _asked(question)
    found = []
    for match in _NAME_OR_NUMBER.finditer(sentence):
        word = match.group().strip(".,'’")
        if match.start() and word and word.lower() not in asked and word.lower() not in _FILLER:
            found.append(word)
    return found


@functools.lru_cache(maxsize=1024)
def _asked(question: str) -> frozenset[str]:
    # Once per question, not once per candidate sentence.
    return frozenset(w.lower().strip(".,'’") for w in re.findall(r"[\w'’.-]+", question))


def opening(question: str) -> str:
    """The question word that says what is asked (the first one found), folded to eight kinds.

    >>> opening("Which island lost power?"), opening("In 2022, who won?"), opening("Name the winner.")
    ('which', 'who', 'other')
    >>> opening("What league will he join?"), opening("What did critics question?")
    ('which', 'what')
    """
    match = _OPENING.search(question)
    word = match.group().lower() if match else "other"
    if match is not None and word == "what" and _WHAT_OPEN.match(question, match.end()):
        return "what"  # "What did critics question?", "What is the goal?": not a name asked for
    return {"what": "which", "whom": "who", "whose": "who"}.get(word, word)


def _share(wanted: frozenset[str], have: frozenset[str]) -> float:
    return len(wanted & have) / len(wanted) if wanted else 0.0


def describe(question: str, passages: Sequence[Passage], spans: Sequence[Span], dense: np.ndarray) -> np.ndarray:
    """The feature matrix (one row per span, columns in ``FEATURES`` order).

    ``dense`` holds cosine(question, span) per span. Neighbours are the spans before and after in the same
    passage, in the order ``spans`` lists them (passage order, then text order).
    """
    n = len(spans)
    if n == 0:
        return np.zeros((0, len(FEATURES)), dtype=np.float32)
    wanted = stems(question)
    said = [stems(s.text) for s in spans]
    df: dict[str, int] = {}
    for words in said:
        for w in words & wanted:
            df[w] = df.get(w, 0) + 1
    idf = {w: math.log(1 + (n - df.get(w, 0) + 0.5) / (df.get(w, 0) + 0.5)) for w in wanted}
    idf_total = sum(idf.values())
    lexical = np.array([_share(wanted, words) for words in said])
    idf_overlap = np.array([sum(idf[w] for w in words & wanted) / idf_total if idf_total else 0.0 for words in said])
    kind = answer_type(question)
    asks = opening(question)
    place = place_asked(question)
    by_article: dict[str, list[str]] = {}
    for p in passages:
        by_article.setdefault(p.chunk.article_id, []).append(p.chunk.text)
    articles = {a: "\n".join(t) for a, t in by_article.items()}
    headlines = " ".join(p.chunk.title for p in passages)
    first = passages[0]
    # Over the best BM25 of any passage: the first passage may be a dense-only hit with no BM25 score at all.
    best_bm25 = max([p.scores.get("bm25", 0.0) for p in passages] + [1e-6])
    rows = np.zeros((n, len(FEATURES)), dtype=np.float32)
    index_in_passage = 0
    for i, span in enumerate(spans):
        same_before = i > 0 and spans[i - 1].passage_index == span.passage_index
        same_after = i + 1 < n and spans[i + 1].passage_index == span.passage_index
        index_in_passage = index_in_passage + 1 if same_before else 0
        window = said[i] | (said[i - 1] if same_before else frozenset()) | (said[i + 1] if same_after else frozenset())
        passage = passages[span.passage_index]
        chunk = passage.chunk
        named = new_names(span.text, question)
        # The answer to a news question tends to be named by more than one of the retrieved articles. Only other
        # articles corroborate: over one article's passages every name it holds would look supported.
        others = [text for a, text in articles.items() if a != chunk.article_id]
        support = [sum(name in text for text in others) / max(len(others), 1) for name in dict.fromkeys(named)]
        entity = asks in ("which", "who", "where") or kind == "person"
        explain = asks in ("why", "how", "what") and kind == "any"
        novel = bool(named)  # the same test as rag.answer_types.names_something_new, from the names found
        best_support = max(support, default=0.0)
        # Its own headline counts too (measured: only others' lost 0.013 top-1 on 2023): the answer is often there.
        in_headlines = any(name in headlines for name in named)
        rows[i] = (
            dense[i],
            dense[i] - dense.max(),
            dense[i - 1] if same_before else 0.0,
            dense[i + 1] if same_after else 0.0,
            lexical[i],
            lexical[i] - lexical.max(),
            _share(wanted, window),
            idf_overlap[i],
            idf_overlap[i] - idf_overlap.max(),
            could_answer(kind, span.text, question),
            novel,
            min(len(named), 10),
            _echoes(wanted, said[i]),
            refers_back(span.text),
            span.passage_index,
            chunk.article_id == first.chunk.article_id,
            passage.scores.get("fused", 0.0) - first.scores.get("fused", 0.0),
            passage.scores.get("dense", 0.0),
            passage.scores.get("bm25", 0.0) / best_bm25,
            passage.scores.get("title", 0.0) > 0,
            _share(wanted, stems(chunk.title)),
            math.log1p(chunk.start + span.start),
            index_in_passage,
            math.log1p(len(span.text)),
            best_support,
            sum(support) / len(support) if support else 0.0,
            in_headlines,
            entity * novel,
            entity * best_support,
            entity * in_headlines,
            explain * lexical[i],
            explain * idf_overlap[i],
            explain * dense[i],
            place is not None and names_place(place, span.text, question),
        )
    return rows


ECHO_SHARE = 0.2  # a sentence with fewer than this share of words the question lacks only restates it


def _echoes(wanted: frozenset[str], said: frozenset[str]) -> bool:
    return not said or len(said - wanted) / len(said) < ECHO_SHARE


QUESTION_FEATURES = (
    "best",  # the selector's best sentence probability
    "best_typed",  # the best probability among sentences holding the kind of answer asked for (a number, a time)
    "best_words",  # share of the question's content words around the best sentence (it and its neighbours)
    "best_idf",  # the rarity-weighted share in the best sentence
    "max_idf",  # ... the largest in any sentence
    "names_found",  # share of the question's names that the passages (or headlines) mention
    "names_in_first",  # ... that the best passage mentions
    "words_found",  # share of the question's content words in the passages
    "words_in_first",
    "first_dense",  # the best passage's cosine with the question
    "first_fused",
    "first_title_match",
)
# Left out on purpose: the second and third best probabilities, which read a short article's few sentences as
# weak evidence (every training question had dozens of candidates); raw BM25 scores, which grow with the corpus,
# so a level fitted on one store would not carry to another; the question's own length and number of names,
# which told the 2023 training set's answerable questions from its unanswerable ones (drawn from another year's
# quizzes) and say nothing about other questions.
_TYPED = FEATURES.index("typed")
_WINDOW = FEATURES.index("lexical_window")
_IDF = FEATURES.index("idf_overlap")


def question_features(question: str, passages: Sequence[Passage], rows: np.ndarray,
                      probabilities: np.ndarray) -> np.ndarray:
    """One row (``QUESTION_FEATURES``): does what was retrieved answer the question at all? ``rows`` are the
    candidates' ``describe`` rows and ``probabilities`` the sentence stage's scores of them."""
    top = int(probabilities.argmax()) if len(probabilities) else -1
    best = float(probabilities[top]) if top >= 0 else 0.0
    typed = probabilities[rows[:, _TYPED] > 0] if top >= 0 else np.zeros(0)
    names = [n.lower() for n in answer_names(question)]
    texts = [f"{p.chunk.title}\n{p.chunk.text}".lower() for p in passages]
    everything = "\n".join(texts)
    wanted = stems(question)
    first = passages[0] if passages else None

    def found(names_in: str) -> float:
        return sum(n in names_in for n in names) / len(names) if names else 1.0

    said = frozenset().union(*(stems(p.chunk.text) for p in passages)) if passages else frozenset()
    return np.array([[
        best, float(typed.max()) if len(typed) else 0.0,
        rows[top, _WINDOW] if top >= 0 else 0.0, rows[top, _IDF] if top >= 0 else 0.0,
        float(rows[:, _IDF].max()) if top >= 0 else 0.0,
        found(everything), found(texts[0]) if texts else 0.0,
        _share(wanted, said), _share(wanted, stems(first.chunk.text)) if first else 0.0,
        first.scores.get("dense", 0.0) if first else 0.0, first.scores.get("fused", 0.0) if first else 0.0,
        first is not None and first.scores.get("title", 0.0) > 0,
    ]], dtype=np.float64)


class _Model:
    """Logistic regression on standardised features, or gradient-boosted trees (LightGBM's text format)."""

    def __init__(self, spec: dict[str, Any], features: tuple[str, ...]) -> None:
        if tuple(spec["features"]) != features:
            raise ModelError(
                "The answer selector model was fitted on other features: rebuild it with `make fit-selector`."
            )
        self.kind: str = spec["kind"]
        self._booster: Any = None
        if self.kind == "logistic":
            self._mean = np.asarray(spec["mean"], dtype=np.float64)
            self._scale = np.asarray(spec["scale"], dtype=np.float64)
            self._coef = np.asarray(spec["coef"], dtype=np.float64)
            self._intercept = float(spec["intercept"])
        elif self.kind == "lightgbm":
            import lightgbm

            self._booster = lightgbm.Booster(model_str=spec["model"])
        else:
            raise ModelError(f"Unknown answer selector kind {self.kind!r}: rebuild it with `make fit-selector`.")

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0)
        if self._booster is not None:
            return np.asarray(self._booster.predict(rows), dtype=np.float64)
        z = ((rows - self._mean) / self._scale) @ self._coef + self._intercept
        return 1.0 / (1.0 + np.exp(-z))


class Selector:
    """The two fitted stages: P(a sentence holds the answer) over ``FEATURES``, and P(the passages answer the
    question) over ``QUESTION_FEATURES``. ``level`` is the refusal level on the second; ``extra`` the share of
    the best sentence probability another sentence needs to join the answer."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.sentences = _Model(spec, FEATURES)
        self.questions = _Model(spec["answerable"], QUESTION_FEATURES) if spec.get("answerable") else None
        self.level: float = float(spec["level"])
        self.extra: float = float(spec["extra"])

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> Selector:
        return cls(json.loads(path.read_text("utf-8")))

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """P(the span holds the answer) per row of ``describe``."""
        return self.sentences(rows)

    def answerable(self, question: str, passages: Sequence[Passage], rows: np.ndarray,
                   probabilities: np.ndarray) -> float:
        """P(the passages answer the question); without a question stage, the best sentence probability."""
        if self.questions is None:
            return float(probabilities.max()) if len(probabilities) else 0.0
        return float(self.questions(question_features(question, passages, rows, probabilities))[0])


@functools.lru_cache(maxsize=1)
def default_selector() -> Selector:
    """The committed model, loaded once per process."""
    return Selector.load()
