"""What can go wrong for a reason the caller can act on, said in the domain's words.

The core raises these and knows nothing of HTTP or exit codes: ``service/errors.py`` alone turns
each kind into a status and headers, and ``cli/errors.py`` into an exit code. Each error carries a
stable ``code`` (the JSON body's ``error``) and a ``message`` that says what is wrong and how to fix
it; ``fields`` name the request fields at fault, as a malformed request's do.
"""

from __future__ import annotations


class CitedError(Exception):
    """The base of every refusal; raise one of the kinds below."""

    def __init__(self, code: str, message: str, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or []


class InvalidInputError(CitedError):
    """The input itself is wrong (a field, a file that cannot be read): fix it and send it again."""


class NotSignedInError(CitedError):
    """No credentials, or credentials that are not (or no longer) valid."""


class ForbiddenError(CitedError):
    """The caller is known but may not do this."""


class NotFoundError(CitedError):
    """What the caller names does not exist, or is not theirs to see (the same answer for both)."""


class ConflictError(CitedError):
    """The request is sound but the state here does not allow it (a missing corpus folder, invalid
    access rules): fix that state first."""


class TooLargeError(CitedError):
    """The input is over a size limit the message names."""


class UnsupportedTypeError(CitedError):
    """A file of a kind Cited does not read."""


class BusyError(CitedError):
    """Cited is busy with something that ends on its own: try again after ``retry_after_s``."""

    def __init__(self, code: str, message: str, retry_after_s: float) -> None:
        super().__init__(code, message)
        self.retry_after_s = retry_after_s


class DependencyError(CitedError):
    """Something Cited relies on (a language model, a server) failed or answered garbage."""


class TimedOutError(CitedError):
    """A step took longer than its limit and was given up; the message names the setting."""


class NotReadyError(CitedError):
    """Cited cannot answer yet (nothing is ingested): the message says what to run."""
