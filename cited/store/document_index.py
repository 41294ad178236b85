"""The document index: one small record per stored version of a document, in a Chroma collection
beside the chunks, so listing documents reads one record per document instead of every chunk.

The ingest keeps it with the chunks it describes: a version's record is written with its chunks
(hidden, like them, until published), re-pointed with a rename, re-labelled with its chunks, and
deleted with them. It lives in the store rather than beside the manifest so that workers on other
hosts, sharing only the Chroma server, read the same list. Readers apply the state record to it
exactly as to chunks: a hidden version is not listed.

A store written before the index existed has chunks but no records. Until an ingest has filled the
index (``complete``, marked by a record of its own, written under the ingest lock), readers list
documents from the chunks' metadata as before.

Measured on the SciFact store (5,183 documents, 11,404 chunks): see ``reports/document-list.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cited.store.chunks import Chunk, numbered, version_of

_COMPLETE_ID = "_complete"  # not a version: versions start with a hex document id
_BATCH = 1000  # records per write, well under any Chroma's largest batch


@dataclass(frozen=True)
class DocumentEntry:
    """One stored version of a document, as the document list shows it."""

    version: str
    document_id: str
    title: str
    source: str
    chunks: int
    groups: tuple[str, ...]
    aliases: tuple[str, ...] = ()

    def chunk_ids(self) -> list[str]:
        return [numbered(self.version, index) for index in range(self.chunks)]

    def to_json(self) -> str:
        fields: dict[str, Any] = {
            "title": self.title,
            "source": self.source,
            "chunks": self.chunks,
            "groups": list(self.groups),
        }
        if self.aliases:
            fields["aliases"] = list(self.aliases)
        return json.dumps(fields)

    @classmethod
    def from_record(cls, version: str, text: str) -> DocumentEntry:
        raw = json.loads(text)
        return cls(
            version,
            version.split("-", 1)[0],
            str(raw["title"]),
            str(raw["source"]),
            int(raw["chunks"]),
            tuple(raw["groups"]),
            tuple(raw.get("aliases", ())),
        )


def entries_of(chunks: Iterable[Chunk]) -> list[DocumentEntry]:
    """One entry per version among ``chunks``, which must hold every chunk of each version."""
    counts: dict[str, int] = {}
    first: dict[str, Chunk] = {}
    aliases: dict[str, tuple[str, ...]] = {}
    for chunk in chunks:
        version = version_of(chunk.id)
        counts[version] = counts.get(version, 0) + 1
        first.setdefault(version, chunk)
        if chunk.aliases:
            aliases[version] = chunk.aliases
    return [
        DocumentEntry(v, c.document_id, c.title, c.source, counts[v], tuple(c.groups), aliases.get(v, ()))
        for v, c in first.items()
    ]


class DocumentIndex:
    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def complete(self) -> bool:
        """Whether every stored version has its record (an ingest has filled the index)."""
        return bool(self._collection.get(ids=[_COMPLETE_ID], include=[])["ids"])

    def entries(self) -> list[DocumentEntry]:
        got = self._collection.get(include=["metadatas"])
        return [
            DocumentEntry.from_record(i, str(meta["entry"]))
            for i, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
            if i != _COMPLETE_ID and meta
        ]

    def put(self, entries: Sequence[DocumentEntry]) -> None:
        # A record needs a vector; this collection is never searched, so one number will do. The
        # entry is metadata, not the record's document, which Chroma would index word by word: for
        # 470 entries, 0.3 to 0.5 s as documents, 0.07 to 0.2 s as metadata.
        for lo in range(0, len(entries), _BATCH):
            part = entries[lo : lo + _BATCH]
            self._collection.upsert(
                ids=[e.version for e in part],
                embeddings=[[0.0]] * len(part),
                metadatas=[{"entry": e.to_json()} for e in part],
            )

    def of_document(self, document_id: str) -> list[DocumentEntry]:
        # A version's id starts with its document's: a rename or a re-labelling (rare) reads the ids.
        ids = [i for i in self._collection.get(include=[])["ids"] if i.startswith(f"{document_id}-")]
        if not ids:
            return []
        got = self._collection.get(ids=ids, include=["metadatas"])
        return [
            DocumentEntry.from_record(i, str(meta["entry"]))
            for i, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
            if meta
        ]

    def drop(self, versions: Iterable[str]) -> None:
        wanted = sorted(set(versions))
        for lo in range(0, len(wanted), _BATCH):
            self._collection.delete(ids=wanted[lo : lo + _BATCH])

    def fill(self, entries: Sequence[DocumentEntry]) -> None:
        """Replace every record with ``entries`` (all the store's versions) and mark it complete."""
        stale = [i for i in self._collection.get(include=[])["ids"] if i != _COMPLETE_ID]
        keep = {e.version for e in entries}
        self.drop(i for i in stale if i not in keep)
        self.put(entries)
        self._collection.upsert(ids=[_COMPLETE_ID], embeddings=[[0.0]])
