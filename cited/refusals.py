"""A request refused for a reason the client can act on: one status, code and message, one handler."""

from __future__ import annotations


class RefusalError(Exception):
    """Raised anywhere in the service; ``service/errors.py`` turns it into an ``ErrorBody``.

    ``headers`` go on the response too (``WWW-Authenticate`` for a 401, ``Retry-After`` for a 503);
    ``fields`` name the request fields at fault, as a 422 for a malformed request does.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        fields: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.fields = fields or []
