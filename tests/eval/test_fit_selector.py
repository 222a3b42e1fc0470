"""The selector's training data: near misses are the same question with the answering sentences blanked out."""

from __future__ import annotations

import numpy as np
import pytest

from eval.fit_selector import Item, label, without_answer
from eval.questions import Question
from rag.records import Chunk, Passage
from rag.selector import FEATURES, Span, describe

pytestmark = pytest.mark.unit

TEXT = "Amazon invested $4 billion in Anthropic. The deal was announced on Monday. Rivals watched."


def _item() -> Item:
    passage = Passage(Chunk("a-0", "a", 0, TEXT, 0, len(TEXT), title="Amazon and Anthropic"), {"fused": 0.03})
    spans = [Span(0, 0, 40, TEXT[:40]), Span(0, 41, 74, TEXT[41:74]), Span(0, 75, len(TEXT), TEXT[75:])]
    question = Question("2023_01", "How much did Amazon invest in Anthropic?", answer="$4 billion")
    rows = describe(question.question, [passage], spans, np.array([0.7, 0.3, 0.1]))
    return Item(question, [passage], spans, rows, label(question, spans))


def test_a_near_miss_keeps_the_question_and_every_other_sentence_at_its_offsets() -> None:
    item = _item()
    assert item.labels.tolist() == [1, 0, 0]
    miss = without_answer(item)
    assert miss is not None and miss.near_miss and not miss.question.answerable
    text = miss.passages[0].chunk.text
    assert "$4 billion" not in text and len(text) == len(TEXT)  # blanked, not cut: offsets still hold
    assert [text[s.start:s.end] for s in miss.spans] == [s.text for s in item.spans[1:]]
    assert miss.rows.shape == (2, len(FEATURES)) and not miss.labels.any()
    assert miss.week == item.week  # so it falls in its question's fold


def test_no_near_miss_from_a_question_whose_passages_never_answered_it() -> None:
    item = _item()
    item.labels = np.zeros(3, dtype=np.int8)
    assert without_answer(item) is None
