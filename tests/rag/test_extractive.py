"""The offline answerer's sentence choice, with the real embedder: restatements lose, copies are shown once."""

from __future__ import annotations

import pytest

from rag.embedder import MiniLMEmbedder
from rag.extractive import ExtractiveAnswerer
from rag.records import Chunk, Passage

pytestmark = pytest.mark.integration


def _passage(article_id: str, text: str) -> Passage:
    # Scores as retrieval gives them to a passage that matches well: the selector reads them as features.
    scores = {"fused": 0.032, "dense": 0.7, "bm25": 12.0}
    return Passage(Chunk(f"{article_id}-0", article_id, 0, text, 0, len(text), title=article_id.title()), scores)


def test_a_sentence_that_only_restates_the_question_loses_to_one_that_answers(embedder: MiniLMEmbedder) -> None:
    question = "Which iconic landmark is reportedly riddled with rust and badly in need of repairs?"
    quiz = _passage("quiz", "Which iconic landmark is reportedly riddled with rust and badly in need of repairs?")
    news = _passage("news", "The Eiffel Tower is riddled with rust and badly in need of repairs, a report says.")
    extract = ExtractiveAnswerer(embedder).answer(question, [quiz, news])
    assert not extract.refused
    assert extract.text == f"{news.chunk.text} [2]"  # the restatement is neither the answer nor padding for it


def test_the_same_sentence_from_two_outlets_is_quoted_once(embedder: MiniLMEmbedder) -> None:
    question = "Which drink did Starbucks bring back this week?"
    first = _passage("wire", "Starbucks brought back its Pumpkin Spice Latte this week, the chain said.")
    copy = _passage("paper", "This week Starbucks brought back its Pumpkin Spice Latte, the chain said!")
    other = _passage("blog", "Starbucks said the Pumpkin Spice Latte has sold more than 600 million cups since 2003.")
    extract = ExtractiveAnswerer(embedder).answer(question, [first, copy, other])
    assert extract.text.count("brought back") == 1
    assert len(extract.citations) == len({c.quote for c in extract.citations}) >= 1


def test_a_sentence_that_refers_back_comes_with_the_one_that_names_its_subject(embedder: MiniLMEmbedder) -> None:
    question = "Which band announced this week that it will reunite for a tour?"
    news = _passage("news", "Blink-182 is coming to a city near you. "
                            "The band announced on Tuesday that it will reunite for a world tour next year.")
    extract = ExtractiveAnswerer(embedder).answer(question, [news])
    assert extract.text == f"{news.chunk.text[:39]} [1] {news.chunk.text[40:]} [1]"
    assert [c.quote for c in extract.citations] == [news.chunk.text[:39], news.chunk.text[40:]]
