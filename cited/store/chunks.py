"""Chunks and their ids: the records ingest writes and retrieval returns.

Chunk ids are ``<document id>-<pipeline>-<index>``; ``<document id>-<pipeline>`` names one
*version* of a document (``cited/store/state.py`` hides and reveals versions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cited.store.search_filter import group_fields, groups_of
from cited.text.token_runs import TokenRun


def chunk_id(document_id: str, pipeline: str, index: int) -> str:
    """Chunk ids start with their document's id, so results can be grouped by document unread."""
    return numbered(f"{document_id}-{pipeline}", index)


def numbered(version: str, index: int) -> str:
    """The id of chunk ``index`` (from 0, in document order) of ``version``."""
    return f"{version}-{index:05d}"


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
    page: int | None = None  # 1-based PDF page where it starts
    slide: int | None = None  # 1-based slide of a deck (a chunk never crosses slides)
    ocr: bool = False  # its text was read from a page image by Tesseract
    # Other names of its document (keywords and subject in its properties, its opening line), kept
    # on a document's first chunk only; the document index lists them (named_documents.py).
    aliases: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # who may read it (ingest/access.py); empty only in old stores
    sha256: str = ""  # of the document's bytes; empty in stores written before the manifest
    ingested_at: str = ""  # ISO time the chunk was written
    # When its document is from (ISO 8601) and where that was read: text, properties or file
    # (``ingest/dating.py``); empty in stores written before, or when nothing says.
    document_date: str = ""
    date_source: str = ""
    # Pooled vectors of the passage's spans (``cited/models/span_vectors.py``); empty in older stores.
    span_vectors: str = field(default="", repr=False)
    # The tokens of ``indexed_text()`` as chunking found them, so the encoder need not tokenize the
    # chunk again (``cited/text/token_runs.py``). Only in memory, from chunking to the write; never stored.
    indexed_tokens: TokenRun | None = field(default=None, repr=False, compare=False)

    @property
    def version(self) -> str:
        return version_of(self.id)

    def indexed_text(self) -> str:
        """What the indexes see: the title as well, so a passage is also found by what its document
        is about (as MTEB embeds title + text). The stored text stays the passage alone."""
        return f"{self.title}\n{self.text}"

    def metadata(self) -> dict[str, Any]:
        """The chunk's Chroma metadata, text included (the record's Chroma document stays empty).

        Only what a ``where`` filters on is a key of its own: the document id and the group flags.
        Everything else, the text too, is one JSON string under ``chunk``. Chroma indexes every
        metadata key and full-text indexes every document, and Cited searches neither (BM25 is
        its own index); ``cited bench writes`` (``reports/chunk-writes.md``) times both layouts.
        """
        payload: dict[str, Any] = {
            "title": self.title,
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "index": self.index,
            "pipeline": self.pipeline,
        }
        # Chroma metadata cannot hold None, so an absent page is left out.
        if self.page is not None:
            payload["page"] = self.page
        if self.slide is not None:
            payload["slide"] = self.slide
        if self.ocr:
            payload["ocr"] = True
        if self.aliases:
            payload["aliases"] = list(self.aliases)
        if self.sha256:
            payload["sha256"] = self.sha256
        if self.ingested_at:
            payload["ingested_at"] = self.ingested_at
        if self.document_date:
            payload["document_date"] = self.document_date
            payload["date_source"] = self.date_source
        if self.span_vectors:
            payload["span_vectors"] = self.span_vectors
        payload["text"] = self.text
        packed = json.dumps(payload, ensure_ascii=False)
        return {"document_id": self.document_id, PAYLOAD: packed} | group_fields(self.groups)

    @classmethod
    def from_record(cls, chunk_id: str, document: str | None, meta: dict[str, Any]) -> Chunk:
        """A chunk from its Chroma record, packed (:meth:`metadata`) or written by an older Cited."""
        text, meta = unpack(document, meta)
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
            slide=int(meta["slide"]) if "slide" in meta else None,
            ocr=bool(meta.get("ocr", False)),
            aliases=tuple(str(a) for a in meta.get("aliases", ())),
            groups=groups_of(meta),
            sha256=str(meta.get("sha256", "")),
            ingested_at=str(meta.get("ingested_at", "")),
            document_date=str(meta.get("document_date", "")),
            date_source=str(meta.get("date_source", "")),
            span_vectors=str(meta.get("span_vectors", "")),
        )


PAYLOAD = "chunk"  # the metadata key of a chunk's packed fields (Chunk.metadata)


def unpack(document: str | None, meta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A chunk record's text and its metadata with one key per field, packed or not: stores
    written before the packing keep the text as the Chroma document and every field as a key."""
    if PAYLOAD not in meta:
        return document or "", meta
    fields = json.loads(str(meta[PAYLOAD]))
    text = str(fields.pop("text", ""))
    return text, {k: v for k, v in meta.items() if k != PAYLOAD} | fields


def with_fields(meta: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A chunk record's metadata with ``fields`` changed, in the record's own layout."""
    if PAYLOAD not in meta:
        return {**meta, **fields}
    payload = json.loads(str(meta[PAYLOAD])) | fields
    return {**meta, PAYLOAD: json.dumps(payload, ensure_ascii=False)}


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
    aliases: tuple[str, ...] = ()
