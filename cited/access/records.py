"""A small table of records (API keys, page users) in SQLite, through ``cited/store/transactions.py``.

Every read is a query, so a running server sees a change (``cited keys revoke``) at its next
request; every write is one transaction; the file is created readable by its owner only, before
any digest is written. A store kept by an older Cited as a JSON file (``keys.json``) is imported
once, into the SQLite file beside it, and the JSON file is renamed ``*.json.imported``.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cited.store.transactions import transaction


class RecordTable:
    """Rows of one table, keyed by ``key``; the ``lists`` columns hold lists, stored as JSON."""

    def __init__(
        self, path: Path, table: str, key: str, columns: tuple[str, ...], lists: tuple[str, ...] = ()
    ) -> None:
        # An older release's JSON file is followed by its SQLite successor beside it.
        self.legacy = path if path.suffix == ".json" else path.with_suffix(".json")
        self.path = path.with_suffix(".sqlite") if path.suffix == ".json" else path
        self.table = table
        self.key = key
        self.columns = columns
        self.lists = lists
        self._schema = (
            f"CREATE TABLE IF NOT EXISTS {table} ("
            + ", ".join(f"{c} TEXT PRIMARY KEY" if c == key else f"{c}" for c in columns)
            + ")"
        )

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists() and not self.legacy.exists():
            return []  # nothing stored yet: reading creates no file
        with self._connect() as db:
            found = db.execute(f"SELECT {', '.join(self.columns)} FROM {self.table} ORDER BY rowid")
            return [self._decode(dict(zip(self.columns, row, strict=True))) for row in found]

    def insert(self, row: dict[str, Any]) -> bool:
        """Add a row; False when its key is taken (nothing is written then)."""
        with self._connect() as db:
            taken = db.execute(f"SELECT 1 FROM {self.table} WHERE {self.key} = ?", (row[self.key],))
            if taken.fetchone():
                return False
            self._write(db, row)
            return True

    def put(self, row: dict[str, Any]) -> None:
        """Add or replace the row with this key."""
        with self._connect() as db:
            self._write(db, row)

    def delete(self, key: str) -> bool:
        """Remove the row with this key; False when there was none."""
        with self._connect() as db:
            return db.execute(f"DELETE FROM {self.table} WHERE {self.key} = ?", (key,)).rowcount > 0

    def _write(self, db: Any, row: dict[str, Any]) -> None:
        values = [json.dumps(list(row[c])) if c in self.lists else row[c] for c in self.columns]
        marks = ", ".join("?" for _ in self.columns)
        db.execute(
            f"INSERT OR REPLACE INTO {self.table} ({', '.join(self.columns)}) VALUES ({marks})", values
        )

    def _decode(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: json.loads(v) if k in self.lists else v for k, v in row.items()}

    def _connect(self) -> Any:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))  # owner-only from the start
            self._import_legacy()
        return transaction(self.path, self._schema)

    def _import_legacy(self) -> None:
        if not self.legacy.is_file():
            return
        rows = json.loads(self.legacy.read_text(encoding="utf-8")).get(self.table, [])
        with transaction(self.path, self._schema) as db:
            for row in rows:
                self._write(db, {c: row.get(c) for c in self.columns})
        self.legacy.replace(self.legacy.with_name(self.legacy.name + ".imported"))


def now() -> str:
    """A record's timestamp: UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")
