"""The project's small SQLite files (the ingest manifest, readers' feedback): each use is one
transaction on a fresh connection, so a kill leaves the old state or the new one, and threads never
share a connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path


@contextmanager
def transaction(path: Path, schema: str, foreign_keys: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to ``path`` (created with ``schema`` if new) inside one transaction: committed
    on leaving, rolled back on an exception."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30)) as db:
        if foreign_keys:
            db.execute("PRAGMA foreign_keys = ON")
        db.executescript(schema)
        with db:
            yield db
