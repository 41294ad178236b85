"""Make the store equal to a folder: add new files, replace changed ones, drop removed ones.

A document is identified by the hash of its bytes, so an unchanged file is recognised without
parsing it and is never embedded again. New chunks are written before old ones are deleted, and a
file that fails to read keeps its previous version, so a failed or interrupted run never loses what
the store already held.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cited.embedding import MODEL_NAME, MULTILINGUAL_MODEL_NAME, Embedder, MultilingualEmbedder
from cited.lexical import open_lexical, sync_lexical
from cited.settings import Settings
from cited.store import Chunk, ChunkStore, chunk_id, groups_of
from ingest.access import AccessPolicy, AccessPolicyError, default_policy, load_policy
from ingest.chunking import Chunker
from ingest.cleaning import RULES_VERSION, clean
from ingest.loading import (
    DocumentSource,
    FileSource,
    LoadedDocument,
    UnreadableFileError,
    discover,
    document_id,
)

if TYPE_CHECKING:
    from tqdm import tqdm

# Bump when loading or chunking changes in a way that alters stored chunks.
PIPELINE_VERSION = "1"
# Chunks embedded before the documents they complete are written: large enough for efficient
# batches, small enough that an interrupted run keeps most of its work.
_WRITE_GROUP_CHUNKS = 256


class IngestError(Exception):
    """The ingest cannot start: a bad folder, or a request that would empty the index."""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    reindexed: list[str] = field(default_factory=list)  # same bytes, new ingest settings
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    relocated: list[tuple[str, str]] = field(default_factory=list)  # (old source, new source)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (source, same bytes as)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    unsupported: list[str] = field(default_factory=list)
    regrouped: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (source, new groups)
    chunks_written: int = 0
    lexical_rebuilt: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class _StoredDoc:
    source: str
    chunks: dict[str, str] = field(default_factory=dict)  # chunk id -> pipeline fingerprint
    groups: tuple[str, ...] = ()


@dataclass
class _Run:
    """What one ingest run has decided so far."""

    stored: dict[str, _StoredDoc]
    policy: AccessPolicy
    report: IngestReport = field(default_factory=IngestReport)
    keep: set[str] = field(default_factory=set)  # document ids whose chunks stay
    refreshed: set[str] = field(default_factory=set)  # document ids written by this run
    sources: dict[str, str] = field(default_factory=dict)  # document id -> source, this run
    # document id -> groups: the union over every path that holds those bytes, since whoever may
    # read one copy may read its identical twin
    groups: dict[str, set[str]] = field(default_factory=dict)
    stored_by_source: dict[str, str] = field(init=False)  # source -> stored document id

    def __post_init__(self) -> None:
        self.stored_by_source = {doc.source: doc_id for doc_id, doc in self.stored.items()}

    def keep_previous_version(self, source: str) -> None:
        if source in self.stored_by_source:
            stored_id = self.stored_by_source[source]
            self.keep.add(stored_id)
            # The old text stays, but under today's access rules: a file moved into a restricted
            # folder and broken in the same change must not stay readable by its old groups.
            self.allow(stored_id, source)

    def allow(self, doc_id: str, source: str) -> None:
        self.groups.setdefault(doc_id, set()).update(self.policy.groups_for(source))


def pipeline_fingerprint(settings: Settings) -> str:
    """Changes whenever ingesting the same bytes again would give different chunks or vectors."""
    models = [MODEL_NAME] + ([MULTILINGUAL_MODEL_NAME] if settings.multilingual else [])
    key = "|".join(
        [PIPELINE_VERSION, RULES_VERSION, *models, str(settings.chunk_size), str(settings.chunk_overlap)]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:8]


class Ingestor:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: ChunkStore,
        multilingual: MultilingualEmbedder | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.multilingual = (multilingual or MultilingualEmbedder()) if settings.multilingual else None
        self.lexical = open_lexical(settings)
        self.pipeline = pipeline_fingerprint(settings)
        self._chunker: Chunker | None = None

    def run(self, root: Path, progress: bool = False) -> IngestReport:
        """Make the store equal to the folder ``root``."""
        root = root.resolve()
        if not root.is_dir():
            raise IngestError(f"{root} is not a folder: pass the folder that holds the documents")
        try:
            policy = load_policy(root, self.settings.default_groups)
        except AccessPolicyError as exc:
            raise IngestError(str(exc)) from None
        files, unsupported = discover(root)
        if not files and self.store.count():
            raise IngestError(
                f"{root} holds no supported documents (.txt .md .html .pdf .docx); refusing to "
                f"remove all {len(self.store.documents())} documents from the index. Check the path."
            )
        report = self.sync([FileSource(path, root) for path in files], progress, policy)
        report.unsupported = [p.relative_to(root).as_posix() for p in unsupported]
        return report

    def sync(
        self, items: Sequence[DocumentSource], progress: bool = False, policy: AccessPolicy | None = None
    ) -> IngestReport:
        """Make the store equal to ``items``: the documents of a folder, or of a benchmark.

        ``policy`` gives each document its groups; without one, all get CITED_DEFAULT_GROUPS.
        """
        started = time.perf_counter()
        policy = policy or default_policy(self.settings.default_groups)
        run = _Run(self._stored_documents(), policy)
        pending = [item for item in items if self._classify(item, run)]
        self._index(pending, run, progress)
        self._apply_groups(run)
        self._delete_stale(run)
        # BM25 is rebuilt from what the store now holds, so both always list the same chunks.
        run.report.lexical_rebuilt = sync_lexical(self.store, self.lexical)
        run.report.seconds = time.perf_counter() - started
        return run.report

    # Steps
    def _stored_documents(self) -> dict[str, _StoredDoc]:
        stored: dict[str, _StoredDoc] = defaultdict(lambda: _StoredDoc(source=""))
        for stored_id, meta in self.store.inventory():
            doc = stored[str(meta["document_id"])]
            doc.source = str(meta["source"])
            doc.chunks[stored_id] = str(meta.get("pipeline", ""))
            doc.groups = groups_of(meta)
        return dict(stored)

    def _classify(self, item: DocumentSource, run: _Run) -> bool:
        """Settle an unchanged, renamed or duplicate document now; True when it must be indexed."""
        try:
            doc_id = document_id(item.read())
        except OSError as exc:
            run.report.failed.append((item.source, f"cannot open the file: {exc.strerror or exc}"))
            run.keep_previous_version(item.source)
            return False
        run.allow(doc_id, item.source)
        if doc_id in run.sources:
            run.report.duplicates.append((item.source, run.sources[doc_id]))
            return False
        run.sources[doc_id] = item.source
        current = run.stored.get(doc_id)
        if current is None or set(current.chunks.values()) != {self.pipeline}:
            return True
        run.keep.add(doc_id)
        if current.source == item.source:
            run.report.unchanged.append(item.source)
            return False
        try:
            document = item.load()
        except UnreadableFileError as exc:
            run.report.failed.append((item.source, str(exc)))
            return False
        self.store.relocate_document(doc_id, document.source, document.title)
        run.report.relocated.append((current.source, item.source))
        return False

    def _index(self, pending: list[DocumentSource], run: _Run, progress: bool) -> None:
        from tqdm import tqdm

        prepared: list[tuple[LoadedDocument, list[Chunk]]] = []
        for item in pending:
            try:
                document = item.load()
                groups = tuple(sorted(run.groups[document.document_id]))
                prepared.append((document, self._chunk(document, groups)))
            except UnreadableFileError as exc:
                run.report.failed.append((item.source, str(exc)))
                run.keep_previous_version(item.source)

        total = sum(len(chunks) for _, chunks in prepared)
        with tqdm(total=total, unit="chunk", desc="Embedding", disable=not progress or total == 0) as bar:
            group: list[tuple[LoadedDocument, list[Chunk]]] = []
            for position, item in enumerate(prepared):
                group.append(item)
                full = sum(len(chunks) for _, chunks in group) >= _WRITE_GROUP_CHUNKS
                if full or position == len(prepared) - 1:
                    self._embed_and_write(group, bar)
                    for document, chunks in group:
                        self._record_written(document, len(chunks), run)
                    group = []

    def _record_written(self, document: LoadedDocument, chunks: int, run: _Run) -> None:
        run.keep.add(document.document_id)
        run.refreshed.add(document.document_id)
        run.report.chunks_written += chunks
        previous = run.stored_by_source.get(document.source)
        if previous is None:
            run.report.added.append(document.source)
        elif previous == document.document_id:
            run.report.reindexed.append(document.source)
        else:
            run.report.replaced.append(document.source)

    def _apply_groups(self, run: _Run) -> None:
        """Re-label kept documents whose groups changed (``access.yaml`` edited, file moved)."""
        for doc_id in run.keep - run.refreshed:
            wanted = tuple(sorted(run.groups.get(doc_id, ())))
            stored = run.stored[doc_id]
            if wanted and wanted != stored.groups:
                self.store.set_groups(doc_id, wanted)
                run.report.regrouped.append((run.sources.get(doc_id, stored.source), wanted))

    def _delete_stale(self, run: _Run) -> None:
        stale = [
            chunk_id
            for doc_id, doc in run.stored.items()
            for chunk_id, pipeline in doc.chunks.items()
            if doc_id not in run.keep or (doc_id in run.refreshed and pipeline != self.pipeline)
        ]
        self.store.delete_chunks(stale + self.store.multilingual_orphans())
        current_sources = set(run.sources.values()) | {source for source, _ in run.report.failed}
        run.report.removed = sorted(
            doc.source
            for doc_id, doc in run.stored.items()
            if doc_id not in run.keep and doc.source not in current_sources
        )

    def _chunk(self, document: LoadedDocument, groups: tuple[str, ...]) -> list[Chunk]:
        if self._chunker is None:
            self._chunker = Chunker(
                self.embedder.tokenize, self.settings.chunk_size, self.settings.chunk_overlap
            )
        pages = [clean(page).text for page in document.pages]
        if not any(page.strip() for page in pages):
            raise UnreadableFileError("nothing but page furniture was left after cleaning")
        spans = self._chunker.split_pages(pages)[1] if document.paged else self._chunker.split(pages[0])
        return [
            Chunk(
                id=chunk_id(document.document_id, self.pipeline, i),
                document_id=document.document_id,
                title=document.title,
                source=document.source,
                text=span.text,
                start=span.start,
                end=span.end,
                index=i,
                pipeline=self.pipeline,
                page=span.page,
                groups=groups,
            )
            for i, span in enumerate(spans)
        ]

    def _embed_and_write(self, group: list[tuple[LoadedDocument, list[Chunk]]], bar: tqdm) -> None:
        chunks = [chunk for _, doc_chunks in group for chunk in doc_chunks]
        texts = [c.indexed_text() for c in chunks]
        vectors = self.embedder.embed(texts)
        multilingual = self.multilingual.embed(texts) if self.multilingual is not None else None
        self.store.add(chunks, vectors, multilingual)
        bar.update(len(chunks))
