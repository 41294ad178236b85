"""One ingest at a time per store, whichever machine runs it.

With the shared state in PostgreSQL (``CITED_DATABASE_URL``), the lock is a PostgreSQL advisory
lock named after the store (the Chroma server and collection), held on a connection of its own
for the whole ingest: two hosts that share one Chroma server cannot write into it at once, and a
host that dies releases it with its connection. Otherwise it is a file lock in the data directory,
as before: one host.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from filelock import FileLock, Timeout
from sqlalchemy import text

from cited.database.engine import open_database
from cited.settings import Settings


class IngestLockTimeoutError(Exception):
    """Another ingest held the lock for longer than we were willing to wait; says where."""


def _store_name(settings: Settings) -> str:
    if settings.chroma_host:
        return f"chroma://{settings.chroma_host}:{settings.chroma_port}/{settings.collection}"
    return f"embedded://{settings.data_dir}/{settings.collection}"


def lock_key(settings: Settings) -> int:
    """A signed 64-bit number for the store, the same on every machine (PostgreSQL's lock key)."""
    digest = hashlib.blake2b(_store_name(settings).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def ingest_lock(settings: Settings) -> Iterator[None]:
    """Hold the store's ingest lock, waiting up to ``CITED_INGEST_LOCK_SECONDS``; raises
    :class:`IngestLockTimeoutError` naming the store when another ingest keeps it."""
    database = open_database(settings)
    if not database.is_postgres:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(settings.data_dir / "ingest.lock")
        try:
            lock.acquire(timeout=settings.ingest_lock_seconds)
        except Timeout:
            raise IngestLockTimeoutError(f"another ingest is running on {settings.data_dir}") from None
        try:
            yield
        finally:
            lock.release()
        return
    key = lock_key(settings)
    database.migrate()
    with database.engine.connect() as connection:
        deadline = time.monotonic() + settings.ingest_lock_seconds
        while not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            connection.rollback()
            if time.monotonic() >= deadline:
                raise IngestLockTimeoutError(
                    f"another ingest (on this machine or another sharing {_store_name(settings)}) is running"
                )
            time.sleep(0.25)
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            connection.commit()
