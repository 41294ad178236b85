"""Store access: the Chroma collection of chunks, shared by ingest (writes) and service (reads).

Each chunk is one Chroma record: its embedding, its text, and metadata naming the document it came
from (content-hash id, title, source path relative to the corpus root) and where it sits in that
document's cleaned text (``start``/``end``, and ``page`` for PDFs).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cited.settings import Settings


@dataclass(frozen=True)
class Chunk:
    """A passage of a document, located in the document's cleaned text by ``start``/``end``."""

    id: str
    document_id: str
    title: str
    source: str
    text: str
    start: int
    end: int
    index: int
    pipeline: str  # fingerprint of the ingest settings that produced it
    page: int | None = None

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "document_id": self.document_id,
            "title": self.title,
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "index": self.index,
            "pipeline": self.pipeline,
        }
        # Chroma metadata cannot hold None, so an absent page is left out.
        if self.page is not None:
            meta["page"] = self.page
        return meta

    @classmethod
    def from_record(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
        return cls(
            id=chunk_id,
            document_id=str(meta["document_id"]),
            title=str(meta["title"]),
            source=str(meta["source"]),
            text=text,
            start=int(meta["start"]),
            end=int(meta["end"]),
            index=int(meta["index"]),
            pipeline=str(meta.get("pipeline", "")),
            page=int(meta["page"]) if "page" in meta else None,
        )


@dataclass(frozen=True)
class ScoredChunk:
    chunk: Chunk
    score: float  # cosine similarity to the query, in [-1, 1]


@dataclass(frozen=True)
class StoredDocument:
    document_id: str
    title: str
    source: str
    chunks: int


class ChunkStore:
    """A persistent, embedded Chroma collection with cosine distance."""

    def __init__(self, path: Path, collection: str) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
        )
        # embedding_function=None: Cited always supplies vectors, and Chroma's default function
        # would try to download a model.
        self._collection = self._client.get_or_create_collection(
            collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    # Reading
    def count(self) -> int:
        return self._collection.count()

    def documents(self) -> list[StoredDocument]:
        """Every document in the store with its chunk count, ordered by source path."""
        found: dict[str, StoredDocument] = {}
        for _, meta in self.inventory():
            doc_id = str(meta["document_id"])
            seen = found.get(doc_id)
            found[doc_id] = StoredDocument(
                document_id=doc_id,
                title=str(meta["title"]),
                source=str(meta["source"]),
                chunks=(seen.chunks if seen else 0) + 1,
            )
        return sorted(found.values(), key=lambda d: d.source)

    def search(self, vector: np.ndarray, k: int) -> list[ScoredChunk]:
        total = self.count()
        if total == 0:
            return []
        result = self._collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(k, total),
            include=["documents", "metadatas", "distances"],
        )
        ids = result["ids"][0]
        texts = (result["documents"] or [[]])[0]
        metas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        return [
            ScoredChunk(Chunk.from_record(i, t or "", dict(m or {})), 1.0 - float(d))
            for i, t, m, d in zip(ids, texts, metas, distances, strict=True)
        ]

    # Writing
    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        batch = self._client.get_max_batch_size()
        for lo in range(0, len(chunks), batch):
            part = chunks[lo : lo + batch]
            self._collection.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[lo : lo + batch].tolist(),
                documents=[c.text for c in part],
                metadatas=[c.metadata() for c in part],
            )

    def relocate_document(self, document_id: str, source: str, title: str) -> None:
        """Point an unchanged document's chunks at its new path (a rename needs no re-embedding)."""
        got = self._collection.get(where={"document_id": document_id}, include=["metadatas"])
        metas = [{**dict(m or {}), "source": source, "title": title} for m in got["metadatas"] or []]
        if got["ids"]:
            self._collection.update(ids=got["ids"], metadatas=metas)

    def delete_chunks(self, ids: Sequence[str]) -> None:
        batch = self._client.get_max_batch_size()
        for lo in range(0, len(ids), batch):
            self._collection.delete(ids=list(ids[lo : lo + batch]))

    def inventory(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(chunk id, metadata) of every stored chunk, without texts or vectors."""
        page = 5000
        offset = 0
        while True:
            got = self._collection.get(include=["metadatas"], limit=page, offset=offset)
            metas = got["metadatas"] or []
            yield from zip(got["ids"], (dict(m or {}) for m in metas), strict=True)
            if len(metas) < page:
                return
            offset += page


def open_store(settings: Settings) -> ChunkStore:
    return ChunkStore(settings.chroma_dir, settings.collection)
