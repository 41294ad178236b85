"""Who is asking: the caller's groups and scopes, from an API key or, with auth off, the one local user.

With ``CITED_AUTH=false`` (the default for ``make run`` on localhost) every request is the local
user, who reads the whole corpus and holds every scope. With auth on, each request must send
``Authorization: Bearer <key>``: a missing, malformed, unknown or revoked key gets 401, a key
without the endpoint's scope gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cited.access.keys import SCOPES, KeyStore
from cited.errors import ForbiddenError, NotSignedInError
from cited.settings import Settings
from service.callers import Caller, local_caller
from service.dependencies import get_keys, get_provider_tokens, get_rate_limit, get_settings
from service.provider_tokens import ProviderTokens
from service.rate_limit import RateLimit
from service.schemas import ErrorBody

_bearer = HTTPBearer(auto_error=False, description="An API key from `cited keys add`.")

# What `require` can answer instead of the endpoint, for each endpoint's OpenAPI responses.
CALLER_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Auth is on and the API key is missing or not valid."},
    403: {"model": ErrorBody, "description": "The API key lacks the scope this endpoint needs."},
    429: {"model": ErrorBody, "description": "Too many requests from this caller; see `Retry-After`."},
}


def require(scope: str, counted: bool = True) -> Callable[..., Caller]:
    """A dependency that returns the caller, or refuses the request without ``scope``.

    Refused requests always count against the rate limit. Accepted ones count here unless the
    service behind the endpoint counts them itself (``counted=False``: ``/ask``, whose questions
    are counted by ``service/asking.py`` for the page as well).
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def caller(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        settings: Annotated[Settings, Depends(get_settings)],
        keys: Annotated[KeyStore, Depends(get_keys)],
        limit: Annotated[RateLimit, Depends(get_rate_limit)],
        tokens: Annotated[ProviderTokens | None, Depends(get_provider_tokens)],
    ) -> Caller:
        address = request.client.host if request.client else "unknown"
        if not settings.auth:
            local = local_caller(address)
            if counted:
                limit.hit(local.rate_key)
            return local
        if (
            credentials is not None
            and tokens is not None
            and not credentials.credentials.startswith("cited_")
        ):
            try:
                signed = tokens.caller(credentials.credentials)
            except NotSignedInError:
                limit.hit(f"address:{address}")
                raise
            if counted:
                limit.hit(signed.rate_key)
            if scope not in signed.scopes:
                raise ForbiddenError(
                    "forbidden", f"Provider tokens may ask only; `{scope}` needs a Cited key."
                )
            return signed
        key = keys.verify(credentials.credentials) if credentials else None
        refusal: NotSignedInError | None = None
        if credentials is None:
            refusal = NotSignedInError(
                "missing_key",
                "Send an API key as `Authorization: Bearer <key>`; `cited keys add` makes one.",
            )
        elif key is None:
            refusal = NotSignedInError(
                "invalid_key", "This API key is not valid. Check it, or ask for a new one."
            )
        elif key.revoked:
            refusal = NotSignedInError("revoked_key", "This API key was revoked. Ask for a new one.")
        if refusal is not None:
            # Refused requests count against their address, so a flood of bad keys is throttled too.
            limit.hit(f"address:{address}")
            raise refusal
        assert key is not None  # every way to be None was refused above
        found = Caller(key.name, frozenset(key.groups), frozenset(key.scopes), f"key:{key.id}")
        if counted:
            limit.hit(found.rate_key)
        if scope not in key.scopes:
            raise ForbiddenError("forbidden", f"This API key lacks the `{scope}` scope needed here.")
        return found

    return caller
