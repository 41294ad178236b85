"""Signed-in page sessions of single sign-on, in the shared-state database.

The page's cookie carries only a session's random id (signed); the person, their groups and the
expiry live here, so a sign-out, or the end of ``CITED_SESSION_HOURS``, ends the session on every
machine at once, and groups are those the provider gave at this sign-in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cited.database.engine import Database
from cited.database.schema import instance, sessions


@dataclass(frozen=True)
class SignedIn:
    id: str
    user: str
    groups: tuple[str, ...]
    expires: datetime
    can_upload: bool = False  # may add documents from the page (CITED_OIDC_UPLOAD_GROUPS)


class SessionStore:
    def __init__(self, database: Database, hours: float) -> None:
        self.database = database
        self.lifetime = timedelta(hours=hours)

    def start(self, user: str, groups: tuple[str, ...], can_upload: bool = False) -> SignedIn:
        now = datetime.now(UTC)
        signed = SignedIn(secrets.token_urlsafe(32), user, groups, now + self.lifetime, can_upload)
        with self.database.begin() as db:
            db.execute(sessions.delete().where(sessions.c.expires < now))  # the expired go as new ones come
            db.execute(
                sessions.insert().values(
                    id=signed.id,
                    user=user,
                    groups=list(groups),
                    can_upload=can_upload,
                    created=now,
                    expires=signed.expires,
                )
            )
        return signed

    def get(self, session_id: str) -> SignedIn | None:
        """The session, while it lasts; None once it ended, expired, or never was."""
        with self.database.begin() as db:
            row = db.execute(select(sessions).where(sessions.c.id == session_id)).first()
        if row is None:
            return None
        expires = (
            row.expires if row.expires.tzinfo else row.expires.replace(tzinfo=UTC)
        )  # SQLite keeps no zone
        if expires <= datetime.now(UTC):
            return None
        return SignedIn(row.id, row.user, tuple(row.groups), expires, bool(row.can_upload))

    def end(self, session_id: str) -> bool:
        with self.database.begin() as db:
            return db.execute(sessions.delete().where(sessions.c.id == session_id)).rowcount > 0


def shared_secret(database: Database, name: str) -> str:
    """A random secret made once and kept in the database, the same for every machine that shares it."""
    with database.begin() as db:
        row = db.execute(select(instance.c.value).where(instance.c.name == name)).first()
        if row is not None:
            return row.value
    made = secrets.token_urlsafe(48)
    try:
        with database.begin() as db:
            db.execute(instance.insert().values(name=name, value=made))
    except IntegrityError:  # another machine made it first: theirs is the one
        pass
    with database.begin() as db:
        return db.execute(select(instance.c.value).where(instance.c.name == name)).scalar_one()
