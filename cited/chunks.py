"""Chunks and their ids: the records ingest writes and retrieval returns.

Chunk ids are ``<document id>-<pipeline>-<index>``; ``<document id>-<pipeline>`` names one
*version* of a document (``cited/store_state.py`` hides and reveals versions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cited.search_filter import group_fields, groups_of


def chunk_id(document_id: str, pipeline: str, index: int) -> str:
    """Chunk ids start with their document's id, so results can be grouped by document unread."""
    return f"{document_id}-{pipeline}-{index:05d}"


def document_of(chunk_id: str) -> str:
    return chunk_id.split("-", 1)[0]


def version_of(chunk_id: str) -> str:
    """``<document id>-<pipeline>``: the chunks of one document as one ingest settings made them."""
    return chunk_id.rsplit("-", 1)[0]


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
    groups: tuple[str, ...] = ()  # who may read it (ingest/access.py); empty only in old stores
    sha256: str = ""  # of the document's bytes; empty in stores written before the manifest
    ingested_at: str = ""  # ISO time the chunk was written
    # Pooled vectors of the passage's spans (``cited/span_vectors.py``); empty in older stores.
    span_vectors: str = field(default="", repr=False)

    @property
    def version(self) -> str:
        return version_of(self.id)

    def indexed_text(self) -> str:
        """What the indexes see: the title as well, so a passage is also found by what its document
        is about (as MTEB embeds title + text). The stored text stays the passage alone."""
        return f"{self.title}\n{self.text}"

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
        if self.sha256:
            meta["sha256"] = self.sha256
        if self.ingested_at:
            meta["ingested_at"] = self.ingested_at
        if self.span_vectors:
            meta["span_vectors"] = self.span_vectors
        return meta | group_fields(self.groups)

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
            groups=groups_of(meta),
            sha256=str(meta.get("sha256", "")),
            ingested_at=str(meta.get("ingested_at", "")),
            span_vectors=str(meta.get("span_vectors", "")),
        )


@dataclass(frozen=True)
class ScoredChunk:
    chunk: Chunk
    score: float  # the retriever's score: cosine (dense), BM25, or fused (hybrid)


@dataclass(frozen=True)
class StoredDocument:
    document_id: str
    title: str
    source: str
    chunks: int
