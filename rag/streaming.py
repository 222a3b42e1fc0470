"""The one loop that splits an answer stream into its text pieces and the final ``Answer``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rag.records import Answer


class AnswerStream:
    """Iterate for the text pieces; ``final()`` is the complete ``Answer`` that ends every stream.

    >>> stream = AnswerStream(["Rain ", "fell.", Answer("Q?", "Rain fell.")])
    >>> list(stream), stream.final().text
    (['Rain ', 'fell.'], 'Rain fell.')
    """

    def __init__(self, items: Iterable[str | Answer]) -> None:
        self._items = iter(items)
        self._answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        for item in self._items:
            if isinstance(item, Answer):
                self._answer = item
            else:
                yield item

    def final(self) -> Answer:
        """The ``Answer``, reading whatever pieces are left first."""
        for _ in self:
            pass
        if self._answer is None:
            raise RuntimeError("the answer stream ended without an Answer")  # a bug in an answerer, not user input
        return self._answer
