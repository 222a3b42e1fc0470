"""What an answer claims, as the verifier compares it: its sentences, and their content words, numbers, names
and negation.

These are the lexical half of ``rag.verify``'s score. Numbers and names get their own treatment because they
are where a fluent but invented sentence differs from its source ("$9 million" for "$19 million", "Lviv" for
"Uzhhorod"), while the embedding of the whole sentence barely moves.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from rag.citations import MARKER, content_stems
from rag.records import REFUSAL
from rag.sentences import sentence_spans
from rag.words import STOPWORDS

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_][\w’'-]*")
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_NUMBER_WORDS = {w: float(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split()
)}
_NUMBER_WORDS.update(thirty=30.0, forty=40.0, fifty=50.0, sixty=60.0, seventy=70.0, eighty=80.0, ninety=90.0)
del _NUMBER_WORDS["zero"], _NUMBER_WORDS["one"]  # "one" is a pronoun as often as a count ("one that has...")
# Ordinals live in their own namespace (2nd ≠ 2); "first" is left out because it is mostly idiom ("first lady").
_ORDINALS = {w: f"#{i}" for i, w in enumerate("_ _ second third fourth fifth sixth seventh eighth ninth tenth".split())
             if w != "_"}
# Words that carry no fact of their own, on top of the BM25 stop list: they neither count for coverage nor,
# capitalised at the start of a sentence, as names ("After the split...", "Roughly 24,000 stations...").
FUNCTION_WORDS = STOPWORDS | frozenset(
    "about above according across after again against ago all almost along already although among another any "
    "around because before behind below between beyond both during each either else even ever every few "
    "further however just last later least less like many meanwhile more moreover most much nearly next now "
    "off once only onto other others over overall per perhaps quite rather roughly said same say says since "
    "so some still such though through throughout thus together too toward towards under unlike until up upon "
    "us very via while within yet".split()
) - {"us"}  # "US" is a name
_NEGATIONS = frozenset("not no never none nobody nothing neither nor without cannot".split())
_LEADING = re.compile(r"^[\s\"“‘'(\[*•-]+")
_DOTTED = re.compile(r"\b((?:[A-Z]\.){2,})")  # "U.S." → "US", so it meets "US" and "United States"
_CONNECTORS = frozenset("of for and the on de la".split())
_RUN_TOKEN = re.compile(r"[^\W\d_][\w’'-]*|[^\w\s]")
_MARKERS = re.compile(r"(?:\s*\[\d+\])+")
_ONLY_MARKERS = re.compile(r"^(?:\s*\[\d+\])+\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_SPACE = re.compile(r"\s+")
_ALIASES = {"ameri": "us", "briti": "uk", "brita": "uk"}  # demonyms for the two commonest initialisms
PREFIX = 5  # words are compared by their first letters, so "restrictions" meets "restricted"


def answer_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of an answer, each with the ``[n]`` markers that follow it.

    Line breaks end sentences (list items), and so does a marker group followed by more text: "A [1] B [2]."
    is two claims.

    >>> t = "Cats purr. [1] Dogs bark [2] and bite [1].\\n- Fish swim"
    >>> [t[a:b] for a, b in answer_sentences(t)]
    ['Cats purr. [1]', 'Dogs bark [2]', 'and bite [1].', '- Fish swim']
    """
    cuts: set[int] = {0, len(text)}
    for lo, hi in sentence_spans(text):
        cuts.update((lo, hi))
    cuts.update(m.start() for m in re.finditer("\n", text))
    for match in _MARKERS.finditer(text):
        rest = text[match.end() :]
        if rest[:1].isspace() and rest.strip()[:1] not in ("", ".", ",", ";", ":", "!", "?"):
            cuts.add(match.end())
    spans: list[tuple[int, int]] = []
    bounds = sorted(cuts)
    for lo, hi in itertools.pairwise(bounds):
        piece = text[lo:hi]
        if not piece.strip():
            continue
        lo, hi = lo + len(piece) - len(piece.lstrip()), hi - len(piece) + len(piece.rstrip())
        if _ONLY_MARKERS.match(text[lo:hi]) and spans:  # markers the splitter put at the next sentence's start
            spans[-1] = (spans[-1][0], hi)
        else:
            spans.append((lo, hi))
    return spans


def claim_text(sentence: str) -> str:
    """``sentence`` without its ``[n]`` markers, list bullet and extra white space.

    >>> claim_text("- Dogs bark [2] loudly [1][3].")
    'Dogs bark loudly.'
    """
    text = _BULLET.sub("", MARKER.sub("", sentence))
    return _SPACE.sub(" ", text).replace(" .", ".").replace(" ,", ",").strip()


def is_refusal(text: str) -> bool:
    """Whether ``text`` (an answer or one of its sentences) is the standard refusal, give or take punctuation,
    typographic quotes and a short trailing remark. The one rule: the verifier never checks such a sentence
    and a generated answer that is one counts as refused.

    >>> is_refusal("I couldn’t find that in the articles."), is_refusal("I found it.")
    (True, False)
    >>> is_refusal("I couldn't find that in the articles. " + "But here is a long guess about it anyway.")
    False
    """
    return _letters(text).startswith(_letters(REFUSAL)) and len(text.strip()) <= len(REFUSAL) + 10


def _letters(text: str) -> str:
    return re.sub(r"[^a-z ]", "", text.lower())


def key(word: str) -> str:
    """The comparison key of a (lower-cased, plural-folded) word: its first ``PREFIX`` letters, after an
    "-ing"/"-ed" ending when at least four letters stay (so "seeking" meets "seek").

    >>> key("restrictions"), key("restricted"), key("seeking"), key("seek"), key("need"), key("ban")
    ('restr', 'restr', 'seek', 'seek', 'need', 'ban')
    """
    for ending in ("ing", "ed"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            word = word[: -len(ending)]
            break
    return word[:PREFIX]


def content_keys(text: str) -> set[str]:
    """Keys of the content words of ``text`` (stop words and bare numbers left out).

    >>> sorted(content_keys("The company dispatched 3 teams to Washington."))
    ['compa', 'dispa', 'team', 'washi']
    """
    return {key(w) for w in content_stems(_undot(text)) if not w.isdigit() and w not in FUNCTION_WORDS}


def numbers(text: str) -> set[str]:
    """Canonical numbers in ``text``: digits with their scale word, spelled counts, ordinals.

    >>> sorted(numbers("$19 million, 1,000 flights, seven women, its fifth-largest airline"))
    ['#5', '1000', '19000000', '7']
    """
    found: set[str] = set()
    lowered = text.lower()
    for match in _NUMBER.finditer(lowered):
        raw = match.group().replace(",", "")
        try:
            value = float(raw)
        except ValueError:  # "1.2.3": compare as written
            found.add(raw)
            continue
        after = lowered[match.end() :].lstrip(" $").split(" ", 1)[0].strip(".,;:")
        found.add(_plain(value * _SCALES.get(after, 1.0)))
    for word in re.findall(r"[a-z]+", lowered):
        if word in _NUMBER_WORDS:
            found.add(_plain(_NUMBER_WORDS[word]))
        elif word in _ORDINALS:
            found.add(_ORDINALS[word])
    return found


def _plain(value: float) -> str:
    # One spelling per value, so "1,000" meets "1000" and "$1.5 trillion" meets "1,500 billion".
    return str(int(value)) if value == int(value) else f"{value:.6g}"


def names(sentence: str, lowercase_vocabulary: set[str]) -> tuple[set[str], set[str]]:
    """Keys of the proper names in ``sentence``: (names, possible names).

    Names are capitalised words that are not at the start, and a first word that cannot be an ordinary word: an
    acronym or mixed case ("NASA", "OpenAI") or the start of a multi-word name ("Jill Biden"). A first word the
    sources never use in lower case is only a possible name ("Amazon split..." but also "Jurors found...").
    Function words and spelled numbers are never names.

    >>> found = names("Amazon said Jill Biden met Olena Zelenska in Lviv.", vocabulary("the officials"))
    >>> sorted(found[0]), sorted(found[1])
    (['biden', 'jill', 'lviv', 'olena', 'zelen'], ['amazo'])
    >>> names("NASA launched a rocket.", set()), names("Officials said so.", vocabulary("the officials"))
    (({'nasa'}, set()), (set(), set()))
    """
    words = _WORD.findall(_LEADING.sub("", _undot(sentence)))
    certain: set[str] = set()
    possible: set[str] = set()
    for index, word in enumerate(words):
        lowered = word.lower()
        if not word[0].isupper() or lowered in FUNCTION_WORDS or lowered in _NUMBER_WORDS or lowered in _ORDINALS:
            continue
        folded = _fold(word)
        target = certain
        if index == 0:
            following = words[1] if len(words) > 1 else ""
            oddly_cased = (word.isupper() and len(word) > 1) or any(c.isupper() for c in word[1:])
            starts_name = bool(following) and following[0].isupper() and following.lower() not in FUNCTION_WORDS
            if not (oddly_cased or starts_name):
                if folded in lowercase_vocabulary:
                    continue
                target = possible
        if folded:
            target.add(key(folded))
    return certain, possible


def _fold(word: str) -> str:
    word = re.sub(r"[’']s?$", "", word.lower())
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def _undot(text: str) -> str:
    return _DOTTED.sub(lambda m: m.group(1).replace(".", ""), text)


def vocabulary(text: str) -> set[str]:
    """Folded words that ``text`` uses in lower case (so they are ordinary words, not names)."""
    return {_fold(w) for w in _WORD.findall(text) if w[0].islower()}


def word_keys(text: str) -> set[str]:
    """Keys of every word of ``text`` whatever its case, its hyphenated parts, and the initials of its
    multi-word names: what a name is looked up in.

    >>> sorted(word_keys("the International Monetary Fund in the U.S.-China talks"))
    ['china', 'fund', 'imf', 'in', 'inter', 'monet', 'talk', 'the', 'us', 'us-ch']
    """
    text = _undot(text)
    words = _WORD.findall(text)
    found = {key(_fold(w)) for w in words} | {key(_fold(p)) for w in words for p in w.split("-") if p}
    run: list[str] = []
    for word in [*_RUN_TOKEN.findall(text), "."]:  # punctuation ends a run; the sentinel ends the last one
        if word[0].isupper():
            run.append(word)
            continue
        if word.lower() in _CONNECTORS and run:
            continue  # "Bureau of Labor Statistics" is still one name
        if len(run) >= 2:
            found.add("".join(w[0] for w in run).lower())
        run = []
    return found | {_ALIASES[k] for k in found if k in _ALIASES}


def negated(text: str) -> bool:
    """Whether ``text`` contains a negation cue.

    >>> negated("Griner did not attend."), negated("Griner didn't attend."), negated("Griner attended.")
    (True, True, False)
    """
    lowered = text.lower().replace("’", "'")
    return "n't" in lowered or any(w in _NEGATIONS for w in re.findall(r"[a-z]+", lowered))


@dataclass(frozen=True)
class Claim:
    """The parts of one answer sentence the verifier compares with a source span."""

    text: str
    keys: frozenset[str]
    numbers: frozenset[str]
    names: frozenset[str]
    possible_names: frozenset[str]
    negated: bool


def claim(sentence: str, lowercase_vocabulary: set[str]) -> Claim:
    """The comparable parts of ``sentence`` (``lowercase_vocabulary``: see ``names``)."""
    certain, possible = names(sentence, lowercase_vocabulary)
    return Claim(sentence, frozenset(content_keys(sentence)), frozenset(numbers(sentence)), frozenset(certain),
                 frozenset(possible), negated(sentence))
