"""What an older Cited kept in files of its own, moved into the shared-state database once.

Before the database, API keys, page users and feedback lived in ``keys.sqlite``, ``users.sqlite``
and ``feedback.sqlite`` in the data directory (and, earlier still, ``keys.json`` and
``users.json``). At the first start on the database, each file's rows are copied in, in the same
transaction that the caller commits, rows already there kept as they are, and the file renamed
``*.imported``: it is kept, never deleted, and never read again.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, select

from cited.database.schema import feedback, keys, users

_LISTS = {"groups", "scopes", "citations", "documents"}


def import_legacy_files(connection: Connection, paths: tuple[Path, ...]) -> list[Path]:
    """Copy every older file among ``paths`` (and their ``.json`` forebears) in; the files imported."""
    imported: list[Path] = []
    for path in paths:
        for candidate in (path.with_suffix(".json"), path):
            if candidate.is_file() and _import(connection, candidate):
                imported.append(candidate)
    for path in imported:
        path.replace(path.with_name(path.name + ".imported"))
    return imported


def _import(connection: Connection, path: Path) -> bool:
    if path.suffix == ".json":
        raw = json.loads(path.read_text(encoding="utf-8"))
        tables = {name: raw.get(name, []) for name in ("keys", "users")}
    else:
        tables = _sqlite_rows(path)
    if not any(name in tables for name in ("keys", "users", "feedback")):
        return False  # not one of ours (the manifest, say): left alone
    for table, rows in tables.items():
        target = {"keys": keys, "users": users, "feedback": feedback}.get(table)
        if target is not None:
            _insert_missing(connection, target, rows)
    return True


def _sqlite_rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    with closing(sqlite3.connect(path)) as db:
        db.row_factory = sqlite3.Row
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            name: [dict(row) for row in db.execute(f"SELECT * FROM {name}")]
            for name in names
            if name in ("keys", "users", "feedback")
        }


def _insert_missing(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    columns = {c.name for c in table.columns}
    for row in rows:
        values = {k: _decode(k, v) for k, v in row.items() if k in columns}
        if table is feedback:
            values.pop("id", None)  # numbered afresh: the database's ids may be taken
            where = (feedback.c.session == values["session"]) & (feedback.c.turn == values["turn"])
        else:
            key = next(iter(table.primary_key.columns))
            where = key == values[key.name]
        if connection.execute(select(table).where(where)).first() is None:
            connection.execute(table.insert().values(**values))


def _decode(column: str, value: Any) -> Any:
    if column in _LISTS and isinstance(value, str):
        return json.loads(value)
    if column in ("can_upload", "abstained") and value is not None:
        return bool(value)
    return value
