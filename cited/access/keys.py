"""API keys: who a caller is, which groups' documents they read, and what they may do.

Keys live in a SQLite file (``CITED_KEYS_FILE``, default ``<data dir>/keys.sqlite``) and only as
SHA-256 digests. A key is ``cited_<id>_<secret>`` with 256 random bits of secret, so a plain hash
is enough: a slow password hash (bcrypt, scrypt) protects guessable secrets, and these are not
guessable, while every request pays for the check. The id lets a key be found, listed and revoked
without ever storing it.

Every check reads the file (``cited/access/records.py``), so ``cited keys revoke`` takes effect on a
running server at its next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from cited.access.groups import InvalidGroupsError, validate_groups
from cited.access.records import RecordTable, now

SCOPES = ("ask", "ingest", "admin")
_PREFIX = "cited_"


class KeyRequestError(Exception):
    """A key request that cannot be done: unknown id, bad scope or group; the message says why."""


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    digest: str
    groups: tuple[str, ...]
    scopes: tuple[str, ...]
    created: str
    revoked: str | None = None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def validate_scopes(scopes: list[str]) -> tuple[str, ...]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise KeyRequestError(f"scopes {unknown or '[]'} are not valid; choose from {list(SCOPES)}")
    return tuple(s for s in SCOPES if s in scopes)


class KeyStore:
    def __init__(self, path: Path) -> None:
        self.table = RecordTable(
            path, "keys", "id", tuple(ApiKey.__dataclass_fields__), lists=("groups", "scopes")
        )

    def all(self) -> list[ApiKey]:
        return [
            ApiKey(**{**row, "groups": tuple(row["groups"]), "scopes": tuple(row["scopes"])})
            for row in self.table.rows()
        ]

    def verify(self, key: str) -> ApiKey | None:
        """The key's record when ``key`` is a key of this store (revoked ones included)."""
        if not key.startswith(_PREFIX) or key.count("_") < 2:
            return None
        key_id = key[len(_PREFIX) :].split("_", 1)[0]
        record = next((k for k in self.all() if k.id == key_id), None)
        if record is None or not hmac.compare_digest(record.digest, _digest(key)):
            return None
        return record

    def add(self, name: str, groups: list[str], scopes: list[str]) -> tuple[ApiKey, str]:
        """A new key; the secret is returned once and never stored."""
        try:
            record_groups = validate_groups(groups, "--groups")
        except InvalidGroupsError as exc:
            raise KeyRequestError(str(exc)) from None
        record_scopes = validate_scopes(scopes)
        while True:  # 32-bit ids: a clash is rare, but must not merge two keys
            key_id = secrets.token_hex(4)
            key = f"{_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
            record = ApiKey(key_id, name, _digest(key), record_groups, record_scopes, now())
            if self.table.insert(asdict(record)):
                return record, key

    def revoke(self, key_id: str) -> ApiKey:
        found = next((k for k in self.all() if k.id == key_id), None)
        if found is None:
            raise KeyRequestError(f"no key with id {key_id!r}; `cited keys list` shows the ids")
        revoked = replace(found, revoked=found.revoked or now())
        self.table.put(asdict(revoked))
        return revoked
