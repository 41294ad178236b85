"""Who is asking: the caller's groups and scopes, from an API key or, with auth off, the one local user.

With ``CITED_AUTH=false`` (the default for ``make run`` on localhost) every request is the local
user, who reads the whole corpus and holds every scope. With auth on, each request must send
``Authorization: Bearer <key>``: a missing, malformed, unknown or revoked key gets 401, a key
without the endpoint's scope gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cited.keys import SCOPES, KeyStore
from service.refusals import RefusalError
from service.schemas import ErrorBody

_bearer = HTTPBearer(auto_error=False, description="An API key from `cited keys add`.")

# What `require` can answer instead of the endpoint, for each endpoint's OpenAPI responses.
CALLER_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Auth is on and the API key is missing or not valid."},
    403: {"model": ErrorBody, "description": "The API key lacks the scope this endpoint needs."},
    429: {"model": ErrorBody, "description": "Too many requests from this caller; see `Retry-After`."},
}


@dataclass(frozen=True)
class Principal:
    name: str
    groups: frozenset[str] | None  # None: every document (auth off)
    scopes: frozenset[str]


LOCAL_USER = Principal("local", None, frozenset(SCOPES))


class AuthError(RefusalError):
    """401 or 403, with a code and a message that says what to send instead."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, code, message, {"WWW-Authenticate": "Bearer"} if status == 401 else None)


def _keys(request: Request) -> KeyStore:
    return request.app.state.keys


def require(scope: str) -> Callable[..., Principal]:
    """A dependency that returns the caller, or refuses the request without ``scope``."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def caller(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        limit = request.app.state.rate_limit
        address = f"address:{request.client.host if request.client else 'unknown'}"
        if not request.app.state.settings.auth:
            limit.hit(address)
            return LOCAL_USER
        key = _keys(request).verify(credentials.credentials) if credentials else None
        refusal = None
        if credentials is None:
            refusal = AuthError(
                401,
                "missing_key",
                "Send an API key as `Authorization: Bearer <key>`; `cited keys add` makes one.",
            )
        elif key is None:
            refusal = AuthError(
                401, "invalid_key", "This API key is not valid. Check it, or ask for a new one."
            )
        elif key.revoked:
            refusal = AuthError(401, "revoked_key", "This API key was revoked. Ask for a new one.")
        if refusal is not None:
            # Refused requests count against their address, so a flood of bad keys is throttled too.
            limit.hit(address)
            raise refusal
        assert key is not None  # every way to be None was refused above
        limit.hit(f"key:{key.id}")
        if scope not in key.scopes:
            raise AuthError(403, "forbidden", f"This API key lacks the `{scope}` scope needed here.")
        return Principal(key.name, frozenset(key.groups), frozenset(key.scopes))

    return caller
