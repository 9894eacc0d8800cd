"""The engine's exception tree; the CLI and the bot translate these at their edges."""

from __future__ import annotations

__all__ = ["BriefbotError", "RejectedInput", "IndexMismatchError", "IndexFormatError", "IndexMissingError", "ModelUnavailableError"]


class BriefbotError(Exception):
    """Base class for every error the engine raises on purpose."""


class RejectedInput(BriefbotError):
    """A file (or one line of it) that cannot be ingested; the message says why and what to do."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class IndexMismatchError(BriefbotError):
    """The saved index was built with another model, dimension or format."""


class IndexFormatError(IndexMismatchError):
    """The saved index was written in an older format; `briefbot reindex` (or the next ingest) rebuilds it."""


class IndexMissingError(BriefbotError):
    """No index has been built in the data directory yet."""


class ModelUnavailableError(BriefbotError):
    """The embedding model cannot be loaded from local files."""
