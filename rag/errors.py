"""newsdesk's exceptions. Every message says what to do next; the CLI and page print them as they are."""

from rag.exit_codes import EXIT_ERROR


class NewsdeskError(Exception):
    """Base of every error newsdesk raises on purpose."""

    exit_code = EXIT_ERROR


class EmptyIndexError(NewsdeskError):
    """Nothing has been ingested yet."""


class IndexMismatchError(NewsdeskError):
    """The store was built by another embedder, chunking or layout."""


class StoreError(NewsdeskError):
    """The store cannot be opened, read or written."""


class InputError(NewsdeskError):
    """A path or question that cannot be used."""


class ModelError(NewsdeskError):
    """The embedding model or the answer selector's model is missing, damaged or out of date."""


class LLMError(NewsdeskError):
    """The language model could not answer (unreachable, timeout, HTTP error, bad key, broken stream)."""
