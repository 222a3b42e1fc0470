"""Country and U.S. state names, for questions that ask "which country" or "which state".

About one 2023 training question in six asks for a country or a state; a sentence that names one the question
does not is far likelier to answer it. The names come from ISO 3166 (``pycountry``: countries with their common
names, U.S. subdivisions), plus the short forms news writes that ISO does not ("Russia", "Britain", "U.S.").
"""

from __future__ import annotations

import functools
import re

import pycountry

# The forms news uses where ISO's name is formal ("Russian Federation") or missing (no "Britain" in ISO).
_NEWS_FORMS = ("Russia", "Turkey", "Britain", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland",
               "UK", "U.K.", "US", "U.S.", "USA", "America", "Congo", "Ivory Coast", "Czech Republic", "Palestine",
               "Vatican", "Micronesia", "Washington D.C.")
_ASKS = re.compile(r"\b(?:which|what)\s+(?:[\w.-]+\s+){0,2}?(countr(?:y|ies)|nations?|states?)\b", re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    countries: set[str] = set(_NEWS_FORMS)
    for c in pycountry.countries:
        countries.add(c.name)
        countries.add(c.name.split(",")[0])  # "Korea, Republic of" -> "Korea"
        if common := getattr(c, "common_name", None):
            countries.add(common)
    states = {s.name for s in pycountry.subdivisions.get(country_code="US") or ()}

    def alternation(names: set[str]) -> re.Pattern[str]:
        ordered = sorted(names, key=len, reverse=True)  # "South Korea" before "Korea"
        return re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(n) for n in ordered) + r")(?![\w])")

    return {"country": alternation(countries), "state": alternation(states)}


def place_asked(question: str) -> str | None:
    """``"country"`` or ``"state"`` when the question asks which one, else None.

    >>> place_asked("Which country won?"), place_asked("What US state has the highest gas prices?")
    ('country', 'state')
    >>> place_asked("Which company is lobbying?") is None
    True
    """
    match = _ASKS.search(question)
    if not match:
        return None
    return "state" if match.group(1).lower().startswith("state") else "country"


def names_place(kind: str, sentence: str, question: str) -> bool:
    """Whether ``sentence`` names a place of ``kind`` that ``question`` does not.

    >>> names_place("country", "The drills with the Philippines began.", "The US and which country held drills?")
    True
    >>> names_place("state", "Prices topped $5 in California.", "Which state took the crown from California?")
    False
    """
    asked = question.lower()
    return any(m.group().lower() not in asked for m in _patterns()[kind].finditer(sentence))
