"""The ingest manifest: what the index holds, per document and per file, in SQLite.

For each document: its content hash, the chunk ids it was stored under, its groups and when it
was ingested. For each file of the folder: which document its bytes are, with the size and
modification time they had, so an untouched file is recognised without reading it again (as git's
index does). The folder the index follows is recorded too, for uploads over HTTP.

The store stays the truth; the manifest is its record, like the BM25 index. It carries the store's
``generation`` and is committed (one SQLite transaction) just before the store publishes that
generation. Whenever the two disagree (a crash between the two writes, a deleted or copied
manifest, another process's ingest against a shared Chroma server), it is rebuilt from the store's
metadata, which holds every field but the file sizes and times.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from cited.store.chunk_store import ChunkStore
from cited.store.chunks import Chunk
from cited.store.transactions import transaction

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    document_id TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    title       TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    pipeline    TEXT NOT NULL,
    groups      TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id    TEXT PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(document_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id);
CREATE TABLE IF NOT EXISTS files (
    source      TEXT PRIMARY KEY,
    document_id TEXT NOT NULL,
    size        INTEGER,
    mtime_ns    INTEGER
);
"""


@dataclass(frozen=True)
class DocumentRecord:
    document_id: str
    source: str
    title: str
    sha256: str
    pipeline: str
    groups: tuple[str, ...]
    ingested_at: str
    chunk_ids: tuple[str, ...]

    @property
    def version(self) -> str:
        return f"{self.document_id}-{self.pipeline}"


@dataclass(frozen=True)
class FileRecord:
    source: str
    document_id: str
    size: int | None
    mtime_ns: int | None


class Manifest:
    """One SQLite file; every change is one transaction, so a kill leaves the old or the new."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path, _SCHEMA, foreign_keys=True)

    # Reading
    def generation(self) -> int | None:
        """The store generation this manifest describes; None when it was never written."""
        if not self.path.exists():
            return None
        with self._connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            schema = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None or schema is None or schema[0] != SCHEMA_VERSION:
            return None
        return int(row[0])

    def root(self) -> str | None:
        """The folder the index follows (the last `cited ingest PATH`), if any."""
        if not self.path.exists():
            return None
        with self._connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'root'").fetchone()
        return row[0] if row else None

    def documents(self) -> dict[str, DocumentRecord]:
        if not self.path.exists():
            return {}
        with self._connect() as db:
            chunks: dict[str, list[str]] = {}
            for chunk_id, document_id in db.execute("SELECT chunk_id, document_id FROM chunks"):
                chunks.setdefault(document_id, []).append(chunk_id)
            return {
                row[0]: DocumentRecord(
                    document_id=row[0],
                    source=row[1],
                    title=row[2],
                    sha256=row[3],
                    pipeline=row[4],
                    groups=tuple(json.loads(row[5])),
                    ingested_at=row[6],
                    chunk_ids=tuple(sorted(chunks.get(row[0], []))),
                )
                for row in db.execute(
                    "SELECT document_id, source, title, sha256, pipeline, groups, ingested_at FROM documents"
                )
            }

    def files(self) -> dict[str, FileRecord]:
        if not self.path.exists():
            return {}
        with self._connect() as db:
            return {
                row[0]: FileRecord(*row)
                for row in db.execute("SELECT source, document_id, size, mtime_ns FROM files")
            }

    # Writing
    def commit(
        self,
        generation: int,
        put: Iterable[DocumentRecord] = (),
        drop: Iterable[str] = (),
        files: Iterable[FileRecord] = (),
        drop_files: Iterable[str] = (),
        root: str | None = None,
    ) -> None:
        """Record one published change: documents written (``put``) and removed (``drop``)."""
        with self._connect() as db:
            for document_id in drop:
                db.execute("DELETE FROM documents WHERE document_id = ?", (document_id,))
            for record in put:
                db.execute("DELETE FROM documents WHERE document_id = ?", (record.document_id,))
                db.execute(
                    "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.document_id,
                        record.source,
                        record.title,
                        record.sha256,
                        record.pipeline,
                        json.dumps(list(record.groups)),
                        record.ingested_at,
                    ),
                )
                db.executemany(
                    "INSERT INTO chunks VALUES (?, ?)", [(c, record.document_id) for c in record.chunk_ids]
                )
            for source in drop_files:
                db.execute("DELETE FROM files WHERE source = ?", (source,))
            db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                [(f.source, f.document_id, f.size, f.mtime_ns) for f in files],
            )
            self._set(db, generation, root)

    def rebuild(self, store: ChunkStore, generation: int) -> None:
        """Replace the whole record by what the store shows (its visible chunks)."""
        state = store.state()
        chunks: dict[str, list[Chunk]] = {}
        for chunk_id, meta in store.inventory():
            if state.visible(chunk_id):
                chunk = Chunk.from_record(chunk_id, "", meta)
                chunks.setdefault(chunk.document_id, []).append(chunk)
        records = [records_of(parts) for parts in chunks.values()]
        root = self.root()
        with self._connect() as db:
            db.execute("DELETE FROM chunks")
            db.execute("DELETE FROM documents")
            db.execute("DELETE FROM files")
        self.commit(
            generation,
            put=records,
            files=[FileRecord(r.source, r.document_id, None, None) for r in records],
            root=root,
        )

    @staticmethod
    def _set(db: sqlite3.Connection, generation: int, root: str | None) -> None:
        rows = [("generation", str(generation)), ("schema", SCHEMA_VERSION)]
        if root is not None:
            rows.append(("root", root))
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", rows)


def records_of(chunks: list[Chunk]) -> DocumentRecord:
    """The manifest record of one document version, from its chunks."""
    first = min(chunks, key=lambda c: c.index)
    return DocumentRecord(
        document_id=first.document_id,
        source=first.source,
        title=first.title,
        sha256=first.sha256,
        pipeline=first.pipeline,
        groups=first.groups,
        ingested_at=min((c.ingested_at for c in chunks if c.ingested_at), default=""),
        chunk_ids=tuple(sorted(c.id for c in chunks)),
    )
