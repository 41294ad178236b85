"""Store access: the Chroma collection of chunks, shared by ingest (writes) and service (reads).

Each chunk is one Chroma record: its embedding, and metadata holding its text, the document it came
from (content-hash id, title, source path relative to the corpus root) and where it sits in that
document's cleaned text (``start``/``end``, and ``page`` for PDFs); ``Chunk.metadata`` says how it is
laid out, and why the text is not the record's Chroma document.

The store is embedded (``chromadb.PersistentClient`` in the data directory, one serving process)
or a Chroma server (``chromadb.HttpClient``, any number of workers), chosen by the settings.

Readers never see a document half written: see ``cited/store/state.py``. The records are in
``cited/store/chunks.py``, the search filter in ``cited/store/search_filter.py`` and the serving lock in
``cited/store/serving_lock.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from cited.settings import Settings
from cited.store.chunks import Chunk, StoredDocument, document_of, unpack, version_of, with_fields
from cited.store.document_index import DocumentEntry, DocumentIndex, entries_of
from cited.store.search_filter import EVERYTHING, GROUP_FLAG, SearchFilter, group_fields, groups_of
from cited.store.state import StoreState

MULTILINGUAL_SUFFIX = "-e5"
STATE_SUFFIX = "-state"
DOCUMENTS_SUFFIX = "-documents"
_STATE_ID = "state"


class ChunkStore:
    """Chunks in a Chroma store (cosine distance), embedded or on a Chroma server.

    The main collection holds each chunk's text, metadata and MiniLM vector. When multilingual
    retrieval is on, a second collection holds the e5 vector of each chunk under the same id. A
    third holds the one :class:`StoreState` record, and a fourth one record per stored version of
    a document (``cited/store/document_index.py``).
    """

    def __init__(self, client: Any, collection: str, embedded_path: Path | None = None) -> None:
        self._client = client
        self.embedded_path = embedded_path  # the data folder when embedded, else None (a server)
        # embedding_function=None: Cited always supplies vectors, and Chroma's default function
        # would try to download a model.
        self._collection = self._open(collection)
        self._multilingual = self._open(collection + MULTILINGUAL_SUFFIX)
        self._state = self._open(collection + STATE_SUFFIX)
        self.document_index = DocumentIndex(self._open(collection + DOCUMENTS_SUFFIX))
        # (state seq, every visible document with the groups that may read it): see documents()
        self._listing: tuple[int, list[tuple[StoredDocument, frozenset[str]]]] | None = None

    # The state record
    def state(self) -> StoreState:
        got = self._state.get(ids=[_STATE_ID], include=["documents"])
        documents = got["documents"] or []
        return StoreState.from_json(documents[0]) if documents and documents[0] else StoreState()

    def write_state(self, generation: int, hidden: Iterable[str]) -> StoreState:
        """Replace the state record (one upsert, so readers see the old or the new one whole)."""
        state = StoreState(self.state().seq + 1, generation, frozenset(hidden))
        # A record needs a vector; this collection is never searched, so one number will do.
        self._state.upsert(ids=[_STATE_ID], embeddings=[[0.0]], documents=[state.to_json()])
        return state

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
        """Every visible document readable by ``groups`` (all when None) with its chunk count.

        Read from the document index, one record per document, or from every chunk's metadata in
        a store whose index an ingest has not yet filled. The list is kept per state record: every
        change a reader can see (a version written hidden, published, removed) rewrites the record,
        so ``seq`` moving is exactly when the list may differ.
        """
        state = self.state()
        listing = self._listing
        if listing is None or listing[0] != state.seq:
            entries = (
                self.document_index.entries() if self.document_index.complete() else self.scan_documents()
            )
            listing = (state.seq, list_documents(entries, state))
            self._listing = listing
        return [d for d, readers in listing[1] if groups is None or not groups.isdisjoint(readers)]

    def scan_documents(self) -> list[DocumentEntry]:
        """The document index's entries as the chunks' metadata shows them (every chunk read)."""
        counts: dict[str, int] = {}
        first: dict[str, dict[str, Any]] = {}
        aliases: dict[str, tuple[str, ...]] = {}
        for chunk_id, meta in self.inventory():
            version = version_of(chunk_id)
            counts[version] = counts.get(version, 0) + 1
            first.setdefault(version, meta)
            if meta.get("aliases"):
                aliases[version] = tuple(str(a) for a in meta["aliases"])
        return [
            DocumentEntry(
                version,
                str(m["document_id"]),
                str(m["title"]),
                str(m["source"]),
                counts[version],
                groups_of(m),
                aliases.get(version, ()),
            )
            for version, m in first.items()
        ]

    def chunk_labels(self, state: StoreState) -> list[tuple[str, tuple[str, ...], str]]:
        """(chunk id, groups, document title) of every chunk ``state`` shows: what BM25 needs
        besides the texts. From the document index when it is complete, so no chunk is read (a
        chunk's metadata carries its text and span vectors); else from every chunk's metadata."""
        if not self.document_index.complete():
            listed = self.inventory()
            return [(i, groups_of(m), str(m.get("title", ""))) for i, m in listed if state.visible(i)]
        return [
            (chunk_id, entry.groups, entry.title)
            for entry in self.document_index.entries()
            for chunk_id in entry.chunk_ids()
            if state.visible(chunk_id)
        ]

    def fill_document_index(self) -> None:
        """Write the document index from the chunks, when an ingest finds it missing (a store from
        before it existed); the caller holds the ingest lock, so no write runs meanwhile."""
        if not self.document_index.complete():
            self.document_index.fill(self.scan_documents())

    def nearest(
        self,
        vector: np.ndarray,
        k: int,
        multilingual: bool = False,
        search_filter: SearchFilter = EVERYTHING,
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine) of the ``k`` nearest chunks ``search_filter`` lets through, without
        fetching their texts.
        The filter runs inside Chroma's query, so a chunk it excludes is never scored."""
        from chromadb.errors import InternalError

        collection = self._multilingual if multilingual else self._collection
        for attempt in (1, 2):
            total = collection.count()
            if total == 0 or k <= 0 or search_filter.empty:
                return []
            try:
                result = collection.query(
                    query_embeddings=[vector.tolist()],
                    n_results=min(k, total),
                    where=search_filter.where(),
                    include=["distances"],
                )
                break
            except InternalError:
                # A Chroma server answers "Error finding id" when an ingest deletes chunks while the
                # query runs (seen once in tests/test_scale_out.py); asked again, it answers.
                if attempt == 2:
                    raise
        distances = (result["distances"] or [[]])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], distances, strict=True)]

    def readable_documents(self, document_ids: Iterable[str], groups: frozenset[str] | None) -> set[str]:
        """Those of ``document_ids`` that have visible chunks readable by ``groups``: a document the
        caller may not read is as unknown to them as one that does not exist."""
        search_filter = SearchFilter(groups, frozenset(document_ids))
        if search_filter.empty:
            return set()
        state = self.state()
        found = self._collection.get(where=search_filter.where(), include=[])["ids"]
        return {document_of(i) for i in found if state.visible(i)}

    def fetch(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by id; ids no longer in the store are left out."""
        if not ids:
            return {}
        got = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        texts = got["documents"] or [None] * len(got["ids"])
        metas = got["metadatas"] or []
        return {
            i: Chunk.from_record(i, t, dict(m or {}))
            for i, t, m in zip(got["ids"], texts, metas, strict=True)
        }

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The MiniLM vectors of ``ids``, in that order (all must be stored)."""
        got = self._collection.get(ids=list(ids), include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"] if got["embeddings"] is not None else [], strict=True))
        return np.asarray([by_id[i] for i in ids], dtype=np.float32).reshape(len(ids), -1)

    def version_chunks(self, versions: Iterable[str]) -> list[str]:
        """Ids of every chunk, in either collection, of the given versions."""
        found: list[str] = []
        for version in sorted(set(versions)):
            where = {"document_id": version.split("-", 1)[0]}
            for collection in (self._collection, self._multilingual):
                ids = collection.get(where=where, include=[])["ids"]
                found.extend(i for i in ids if version_of(i) == version)
        return sorted(set(found))

    def multilingual_orphans(self) -> list[str]:
        """Ids with an e5 vector but no chunk: left by an ingest killed between the two writes."""
        main = set(self._collection.get(include=[])["ids"])
        return [i for i in self._multilingual.get(include=[])["ids"] if i not in main]

    def inventory(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(chunk id, metadata, a key per field) of every stored chunk, without vectors."""
        yield from ((i, m) for i, _, m in self._pages(include=["metadatas"]))

    def texts(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(chunk id, text, metadata, a key per field) of every stored chunk."""
        yield from self._pages(include=["documents", "metadatas"])

    def _pages(self, include: list[str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
        page = 5000
        offset = 0
        while True:
            got = self._collection.get(include=include, limit=page, offset=offset)  # type: ignore[arg-type]
            ids = got["ids"]
            texts = got["documents"] or [None] * len(ids)
            metas = got["metadatas"] or [{}] * len(ids)
            for chunk_id, text, meta in zip(ids, texts, metas, strict=True):
                yield chunk_id, *unpack(text, dict(meta or {}))
            if len(ids) < page:
                return
            offset += page

    # Writing
    def add(
        self, chunks: Sequence[Chunk], vectors: np.ndarray, multilingual: np.ndarray | None = None
    ) -> None:
        """Write chunks, with every chunk of each version among them (the document index counts
        them), under versions the state record hides until they are published."""
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
            # No Chroma document: the text is in the metadata (Chunk.metadata says why).
            self._collection.upsert(
                ids=ids, embeddings=vectors[lo : lo + batch], metadatas=[c.metadata() for c in part]
            )
        self.document_index.put(entries_of(chunks))

    def relocate_document(self, document_id: str, source: str, title: str) -> None:
        """Point an unchanged document's chunks at its new path (a rename needs no re-embedding)."""
        got = self._collection.get(where={"document_id": document_id}, include=["metadatas"])
        metas = [with_fields(dict(m or {}), source=source, title=title) for m in got["metadatas"] or []]
        if got["ids"]:
            self._collection.update(ids=got["ids"], metadatas=metas)
        self.document_index.put(
            [replace(e, source=source, title=title) for e in self.document_index.of_document(document_id)]
        )

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
        self.document_index.put(
            [replace(e, groups=tuple(groups)) for e in self.document_index.of_document(document_id)]
        )

    def delete_versions(self, versions: Iterable[str]) -> None:
        """Delete every chunk of ``versions`` and their document records (records first: a kill
        between the two leaves chunks of a hidden version, which recovery deletes, and never a
        record of a version with no chunks)."""
        versions = set(versions)
        self.document_index.drop(versions)
        self.delete_chunks(self.version_chunks(versions))

    def delete_chunks(self, ids: Sequence[str]) -> None:
        """Delete chunks only: :meth:`delete_versions` deletes whole versions with their records."""
        batch = self._client.get_max_batch_size()
        for lo in range(0, len(ids), batch):
            part = list(ids[lo : lo + batch])
            self._collection.delete(ids=part)
            self._multilingual.delete(ids=part)


class StoreUnavailableError(Exception):
    """The Chroma server cannot be reached; the message says which one and what to check."""


def open_store(settings: Settings) -> ChunkStore:
    """The embedded store under the data directory, or the Chroma server the settings name."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host is None:
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        # Absolute, as the settings make it, even for settings copied with a relative one: Chroma
        # reopens this path for as long as the process runs (see Settings._absolute).
        client = chromadb.PersistentClient(path=str(settings.chroma_dir.absolute()), settings=chroma_settings)
        return ChunkStore(client, settings.collection, embedded_path=settings.chroma_dir)
    headers = {}
    if settings.chroma_token is not None:
        headers["Authorization"] = f"Bearer {settings.chroma_token.get_secret_value()}"
    try:
        client = chromadb.HttpClient(
            host=settings.chroma_host,
            port=settings.chroma_port,
            ssl=settings.chroma_ssl,
            headers=headers,
            settings=chroma_settings,
        )
        return ChunkStore(client, settings.collection)
    except Exception as exc:  # chromadb raises bare ValueError/ConnectError kinds here
        scheme = "https" if settings.chroma_ssl else "http"
        raise StoreUnavailableError(
            f"cannot reach the Chroma server at {scheme}://{settings.chroma_host}:{settings.chroma_port} "
            f"({type(exc).__name__}: {exc}). Start it (`chroma run --path DIR --port "
            f"{settings.chroma_port}`) or check CITED_CHROMA_HOST, CITED_CHROMA_PORT, CITED_CHROMA_SSL."
        ) from exc


def list_documents(
    entries: Iterable[DocumentEntry], state: StoreState
) -> list[tuple[StoredDocument, frozenset[str]]]:
    """The visible documents of ``entries``, by source, each with the groups that may read it."""
    counts: dict[str, int] = {}
    first: dict[str, DocumentEntry] = {}
    readers: dict[str, set[str]] = {}
    for entry in entries:
        if state.hidden and entry.version in state.hidden:
            continue
        counts[entry.document_id] = counts.get(entry.document_id, 0) + entry.chunks
        first.setdefault(entry.document_id, entry)
        readers.setdefault(entry.document_id, set()).update(entry.groups)
    documents = [
        (StoredDocument(doc_id, e.title, e.source, counts[doc_id], e.aliases), frozenset(readers[doc_id]))
        for doc_id, e in first.items()
    ]
    return sorted(documents, key=lambda item: item[0].source)
