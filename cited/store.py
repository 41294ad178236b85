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

GROUP_FLAG = "g_"  # metadata key prefix of the per-group flags


def chunk_id(document_id: str, pipeline: str, index: int) -> str:
    """Chunk ids start with their document's id, so results can be grouped by document unread."""
    return f"{document_id}-{pipeline}-{index:05d}"


def group_fields(groups: Sequence[str]) -> dict[str, Any]:
    """Metadata that records a chunk's groups: the list for reading, and one flag per group for
    filtering, since a Chroma ``where`` cannot test membership in a string."""
    return {"groups": "|".join(groups), **{f"{GROUP_FLAG}{g}": True for g in groups}}


def groups_of(meta: dict[str, Any]) -> tuple[str, ...]:
    return tuple(g for g in str(meta.get("groups", "")).split("|") if g)


def group_filter(groups: frozenset[str] | None) -> dict[str, Any] | None:
    """The Chroma ``where`` that keeps chunks readable by any of ``groups``; None reads everything.

    Callers handle an empty set themselves (it reads nothing), since Chroma has no false filter.
    """
    if groups is None:
        return None
    flags: list[dict[str, Any]] = [{f"{GROUP_FLAG}{g}": True} for g in sorted(groups)]
    return flags[0] if len(flags) == 1 else {"$or": flags}


def document_of(chunk_id: str) -> str:
    return chunk_id.split("-", 1)[0]


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


MULTILINGUAL_SUFFIX = "-e5"


class ChunkStore:
    """Chunks in a persistent, embedded Chroma store (cosine distance).

    The main collection holds each chunk's text, metadata and MiniLM vector. When multilingual
    retrieval is on, a second collection holds the e5 vector of each chunk under the same id.
    """

    def __init__(self, path: Path, collection: str) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
        )
        # embedding_function=None: Cited always supplies vectors, and Chroma's default function
        # would try to download a model.
        self._collection = self._open(collection)
        self._multilingual = self._open(collection + MULTILINGUAL_SUFFIX)

    def _open(self, name: str) -> Any:
        return self._client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    # Reading
    def count(self) -> int:
        return self._collection.count()

    def multilingual_count(self) -> int:
        return self._multilingual.count()

    def documents(self, groups: frozenset[str] | None = None) -> list[StoredDocument]:
        """Every document readable by ``groups`` (all when None) with its chunk count, by path."""
        found: dict[str, StoredDocument] = {}
        for _, meta in self.inventory():
            if groups is not None and not groups.intersection(groups_of(meta)):
                continue
            doc_id = str(meta["document_id"])
            seen = found.get(doc_id)
            found[doc_id] = StoredDocument(
                document_id=doc_id,
                title=str(meta["title"]),
                source=str(meta["source"]),
                chunks=(seen.chunks if seen else 0) + 1,
            )
        return sorted(found.values(), key=lambda d: d.source)

    def nearest(
        self,
        vector: np.ndarray,
        k: int,
        multilingual: bool = False,
        groups: frozenset[str] | None = None,
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine) of the ``k`` nearest chunks readable by ``groups`` (all when None),
        without fetching their texts. The filter runs inside Chroma's query, so a chunk outside
        the groups is never scored."""
        collection = self._multilingual if multilingual else self._collection
        total = collection.count()
        if total == 0 or k <= 0 or (groups is not None and not groups):
            return []
        result = collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(k, total),
            where=group_filter(groups),
            include=["distances"],
        )
        distances = (result["distances"] or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], distances, strict=True)]

    def fetch(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by id; ids no longer in the store are left out."""
        if not ids:
            return {}
        got = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        texts = got["documents"] or []
        metas = got["metadatas"] or []
        return {
            i: Chunk.from_record(i, t or "", dict(m or {}))
            for i, t, m in zip(got["ids"], texts, metas, strict=True)
        }

    def multilingual_orphans(self) -> list[str]:
        """Ids with an e5 vector but no chunk: left by an ingest killed between the two writes."""
        main = set(self._collection.get(include=[])["ids"])
        return [i for i in self._multilingual.get(include=[])["ids"] if i not in main]

    def inventory(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(chunk id, metadata) of every stored chunk, without texts or vectors."""
        yield from ((i, m) for i, _, m in self._pages(include=["metadatas"]))

    def texts(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(chunk id, text, metadata) of every stored chunk."""
        yield from self._pages(include=["documents", "metadatas"])

    def _pages(self, include: list[str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
        page = 5000
        offset = 0
        while True:
            got = self._collection.get(include=include, limit=page, offset=offset)  # type: ignore[arg-type]
            ids = got["ids"]
            texts = got["documents"] or [""] * len(ids)
            metas = got["metadatas"] or [{}] * len(ids)
            yield from zip(ids, (t or "" for t in texts), (dict(m or {}) for m in metas), strict=True)
            if len(ids) < page:
                return
            offset += page

    # Writing
    def add(
        self, chunks: Sequence[Chunk], vectors: np.ndarray, multilingual: np.ndarray | None = None
    ) -> None:
        batch = self._client.get_max_batch_size()
        for lo in range(0, len(chunks), batch):
            part = chunks[lo : lo + batch]
            ids = [c.id for c in part]
            # The e5 vectors go first: a chunk visible in the main collection always has them.
            if multilingual is not None:
                self._multilingual.upsert(
                    ids=ids,
                    embeddings=multilingual[lo : lo + batch].tolist(),
                    metadatas=[{"document_id": c.document_id} | group_fields(c.groups) for c in part],
                )
            self._collection.upsert(
                ids=ids,
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

    def set_groups(self, document_id: str, groups: Sequence[str]) -> None:
        """Re-label a document's chunks in both collections (no re-embedding).

        Old flags are set to False rather than removed: the filter asks for True, and ``update``
        merges metadata. The e5 collection is written first, so no moment shows a chunk readable
        by its old groups in one collection and its new ones in the other for longer than needed.
        """
        for collection in (self._multilingual, self._collection):
            got = collection.get(where={"document_id": document_id}, include=["metadatas"])
            metas = []
            for meta in got["metadatas"] or []:
                old = {f"{GROUP_FLAG}{g}": False for g in groups_of(dict(meta or {}))}
                metas.append({**dict(meta or {}), **old, **group_fields(groups)})
            if got["ids"]:
                collection.update(ids=got["ids"], metadatas=metas)

    def delete_chunks(self, ids: Sequence[str]) -> None:
        batch = self._client.get_max_batch_size()
        for lo in range(0, len(ids), batch):
            part = list(ids[lo : lo + batch])
            self._collection.delete(ids=part)
            self._multilingual.delete(ids=part)


def open_store(settings: Settings) -> ChunkStore:
    return ChunkStore(settings.chroma_dir, settings.collection)
