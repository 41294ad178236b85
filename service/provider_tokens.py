"""The identity provider's access tokens on the API, beside Cited's own keys (single sign-on on).

A bearer token that is not a Cited key (``cited_…``) is read as a JWT: its signature is checked
against the provider's published keys (JWKS, found through its discovery document, kept for an
hour and fetched again for an unknown key id), and its issuer, audience (``CITED_OIDC_AUDIENCE``,
default the client id) and expiry are required and checked. Groups come from the same claim and
mapping as the page's; such a caller may ask, nothing more.

Providers that issue opaque access tokens (not JWTs) cannot be checked this way: use Cited keys
for those callers.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from cited.access.group_mapping import GroupMapping, claimed_groups
from cited.errors import DependencyError, ForbiddenError, NotSignedInError
from cited.settings import Settings
from service.callers import Caller

_KEYS_FOR_S = 3600.0
_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class ProviderTokens:
    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.audience = settings.oidc_audience or settings.oidc_client_id
        self.groups_claim = settings.oidc_groups_claim
        self.allowed = set(settings.oidc_allowed_groups)
        self.mapping = GroupMapping.load(settings.oidc_group_map_file)
        self._keys: KeySet | None = None
        self._fetched = 0.0
        self._lock = threading.Lock()

    def caller(self, token: str) -> Caller:
        """The caller a provider token stands for; raises :class:`NotSignedInError` if it is not valid."""
        try:
            decoded = self._decode(token)
        except ExpiredTokenError:
            raise NotSignedInError("expired_token", "This access token has expired. Get a new one.") from None
        except (JoseError, ValueError) as exc:
            raise NotSignedInError(
                "invalid_token",
                f"This bearer token is neither a Cited key nor a valid access token of {self.issuer} "
                f"({type(exc).__name__}).",
            ) from None
        claims = decoded.claims
        provider = claimed_groups(claims, self.groups_claim)
        name = str(claims.get("email") or claims.get("preferred_username") or claims["sub"])
        if self.allowed and not self.allowed.intersection(provider):
            raise ForbiddenError("forbidden", f"{name} is not in a group allowed to use Cited.")
        return Caller(name, frozenset(self.mapping.groups(provider)), frozenset({"ask"}), f"sso:{name}")

    def _decode(self, token: str) -> Any:
        try:
            decoded = jwt.decode(token, self._key_set(), algorithms=_ALGORITHMS)
        except InvalidKeyIdError:  # the provider rotated its keys since they were fetched
            decoded = jwt.decode(token, self._key_set(refresh=True), algorithms=_ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
            sub={"essential": True},
        ).validate(decoded.claims)
        return decoded

    def _key_set(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is None or refresh or time.monotonic() - self._fetched > _KEYS_FOR_S:
                try:
                    discovery = httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5)
                    discovery.raise_for_status()
                    jwks = httpx.get(discovery.json()["jwks_uri"], timeout=5)
                    jwks.raise_for_status()
                    self._keys = KeySet.import_key_set(jwks.json())
                except (httpx.HTTPError, KeyError, ValueError) as exc:
                    raise DependencyError(
                        "provider_unreachable",
                        f"the identity provider's keys ({self.issuer}) could not be fetched to check "
                        f"the token: {exc}",
                    ) from None
                self._fetched = time.monotonic()
            return self._keys
