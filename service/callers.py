"""Who is asking: one caller type for the API and the page."""

from __future__ import annotations

from dataclasses import dataclass

from cited.access.keys import SCOPES


@dataclass(frozen=True)
class Caller:
    name: str
    groups: frozenset[str] | None  # None: every document (auth off)
    scopes: frozenset[str]  # what an API key may do: ask, ingest, admin
    rate_key: str  # what the rate limit counts: "key:<id>", "user:<name>" or "address:<ip>"


def local_caller(address: str) -> Caller:
    """With auth off: the one local user, who reads everything and holds every scope; requests
    are counted per client address."""
    return Caller("local", None, frozenset(SCOPES), f"address:{address}")
