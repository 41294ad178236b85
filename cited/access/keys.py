"""API keys: who a caller is, which groups' documents they read, and what they may do.

Keys live in the shared-state database (``cited/database/``; SQLite in the data directory unless
``CITED_DATABASE_URL`` names another) and only as SHA-256 digests. A key is ``cited_<id>_<secret>``
with 256 random bits of secret, so a plain hash is enough: a slow password hash (bcrypt, scrypt)
protects guessable secrets, and these are not guessable, while every request pays for the check.
The id lets a key be found, listed and revoked
without ever storing it.

Every check is a query, so ``cited keys revoke`` takes effect at the next request on every server
that shares the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import select

from cited.access.groups import InvalidGroupsError, validate_groups
from cited.access.records import now
from cited.database.engine import Database
from cited.database.schema import keys

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


def _key(row: Any) -> ApiKey:
    found = dict(row._mapping)
    return ApiKey(**{**found, "groups": tuple(found["groups"]), "scopes": tuple(found["scopes"])})


class KeyStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def all(self) -> list[ApiKey]:
        with self.database.begin() as db:
            return [_key(row) for row in db.execute(select(keys).order_by(keys.c.created, keys.c.id))]

    def get(self, key_id: str) -> ApiKey | None:
        with self.database.begin() as db:
            row = db.execute(select(keys).where(keys.c.id == key_id)).first()
        return None if row is None else _key(row)

    def verify(self, key: str) -> ApiKey | None:
        """The key's record when ``key`` is a key of this store (revoked ones included)."""
        if not key.startswith(_PREFIX) or key.count("_") < 2:
            return None
        key_id = key[len(_PREFIX) :].split("_", 1)[0]
        record = self.get(key_id)
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
            with self.database.begin() as db:
                if db.execute(select(keys.c.id).where(keys.c.id == key_id)).first() is None:
                    db.execute(keys.insert().values(**_row(record)))
                    return record, key

    def revoke(self, key_id: str) -> ApiKey:
        found = self.get(key_id)
        if found is None:
            raise KeyRequestError(f"no key with id {key_id!r}; `cited keys list` shows the ids")
        revoked = replace(found, revoked=found.revoked or now())
        with self.database.begin() as db:
            db.execute(keys.update().where(keys.c.id == key_id).values(revoked=revoked.revoked))
        return revoked


def _row(record: ApiKey) -> dict[str, Any]:
    return {**asdict(record), "groups": list(record.groups), "scopes": list(record.scopes)}
