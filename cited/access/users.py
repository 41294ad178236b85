"""Page users: the Gradio login, mapped to the same groups as API keys.

Passwords are chosen by people, so unlike API keys they are stored with a slow, salted hash:
scrypt from the standard library, n=2**14, r=8, p=1, about 75 ms per check here. That makes
guessing the passwords of a stolen file expensive.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from cited.access.groups import InvalidGroupsError, validate_groups
from cited.access.records import now
from cited.database.engine import Database
from cited.database.schema import users

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 12


class UserRequestError(Exception):
    """A user request that cannot be done; the message says why."""


@dataclass(frozen=True)
class PageUser:
    name: str
    salt: str
    digest: str
    groups: tuple[str, ...]
    created: str
    can_upload: bool = False  # may add and replace documents from the page (the `ingest` scope)


def _hash(password: str, salt: str) -> str:
    return hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1).hex()


def _user(row: Any) -> PageUser:
    found = dict(row._mapping)
    return PageUser(**{**found, "groups": tuple(found["groups"]), "can_upload": bool(found["can_upload"])})


class UserStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def users(self) -> list[PageUser]:
        with self.database.begin() as db:
            return [_user(row) for row in db.execute(select(users).order_by(users.c.created, users.c.name))]

    def get(self, name: str) -> PageUser | None:
        with self.database.begin() as db:
            row = db.execute(select(users).where(users.c.name == name)).first()
        return None if row is None else _user(row)

    def verify(self, name: str, password: str) -> PageUser | None:
        user = self.get(name)
        # An unknown name still pays for one hash, so timing does not tell names apart.
        digest = _hash(password, user.salt if user else "00" * 16)
        return user if user and hmac.compare_digest(user.digest, digest) else None

    def add(self, name: str, password: str, groups: list[str], can_upload: bool = False) -> PageUser:
        if not USER_NAME.match(name):
            raise UserRequestError(f"{name!r} is not a user name (letters, digits, '.', '_', '@', '-')")
        if len(password) < MIN_PASSWORD:
            raise UserRequestError(f"the password must be at least {MIN_PASSWORD} characters")
        try:
            checked = validate_groups(groups, "--groups")
        except InvalidGroupsError as exc:
            raise UserRequestError(str(exc)) from None
        salt = secrets.token_hex(16)
        user = PageUser(name, salt, _hash(password, salt), checked, now(), can_upload)
        with self.database.begin() as db:
            db.execute(users.delete().where(users.c.name == name))
            db.execute(users.insert().values(**{**asdict(user), "groups": list(checked)}))
        return user

    def remove(self, name: str) -> None:
        with self.database.begin() as db:
            if db.execute(users.delete().where(users.c.name == name)).rowcount == 0:
                raise UserRequestError(f"no user {name!r}; `cited users list` shows them")
