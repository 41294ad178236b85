"""Make the store equal to a folder: add new files, replace changed ones, drop removed ones.

A document is identified by the hash of its bytes, so an unchanged file is recognised without
parsing it and is never embedded again; the manifest (``ingest/manifest.py``) remembers each
file's size and modification time, so an untouched file is not even read.

Every change is published the same way, so a reader never sees half of one and a kill at any
moment loses nothing (``cited/store/state.py`` explains the state record; ``ingest/publishing.py``
does steps 2-4 for every kind of change):

1. embed a group of documents (nothing is written yet);
2. hide their new versions in the state record, then write their chunks;
3. commit the manifest, then publish in one write of the state record: the new versions become
   visible and the versions they replace become hidden;
4. delete the replaced chunks and clear the hidden list.

A run that starts after a crash first finishes what the last one left (``ingest/recovery.py``).
What a run decides before writing is its ``SyncPlan`` (``ingest/sync_plan.py``); how a document
becomes chunks is ``ingest/document_chunks.py``. A file that fails to read keeps its previous
version.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from cited.models import span_vectors
from cited.models.embedding import Embedder, MultilingualEmbedder
from cited.operations.crashpoints import crash_point
from cited.settings import Settings
from cited.store.chunk_store import ChunkStore
from cited.store.chunks import Chunk
from cited.store.lexical_freshness import LexicalFreshness
from cited.text.structure import passage_spans
from ingest.access import AccessPolicy, AccessPolicyError, default_policy, load_policy
from ingest.document_chunks import DocumentChunker, read_options
from ingest.formats import READABLE
from ingest.loading import (
    DocumentSource,
    FileSource,
    LoadedDocument,
    UnreadableFileError,
    discover,
    scans_unread,
)
from ingest.manifest import DocumentRecord, FileRecord, Manifest, records_of
from ingest.publishing import Publisher
from ingest.recovery import recover
from ingest.sync_plan import IngestReport, SyncPlan

if TYPE_CHECKING:
    from tqdm import tqdm


class IngestError(Exception):
    """The ingest cannot start: a bad folder, or a request that would empty the index."""


class IngestBusyError(IngestError):
    """Another ingest holds the lock on this data directory."""


class Ingestor:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: ChunkStore,
        multilingual: MultilingualEmbedder | None = None,
        lexical: LexicalFreshness | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.multilingual = (multilingual or MultilingualEmbedder()) if settings.multilingual else None
        # Shared with the retriever when a server ingests (uploads): it then answers from the new
        # BM25 index as soon as the sync ends.
        self.lexical = lexical or LexicalFreshness(settings, store)
        self.manifest = Manifest(settings.manifest_path)
        self.chunker = DocumentChunker(settings, embedder.encode_plain)
        self.read_options = read_options(settings)
        self.pipeline = self.chunker.pipeline

    # Entry points
    def run(self, root: Path, progress: bool = False, dry_run: bool = False) -> IngestReport:
        """Make the store equal to the folder ``root`` (with ``dry_run``, only say what would change)."""
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
                f"{root} holds no supported documents ({READABLE}); refusing to "
                f"remove all {len(self.store.documents())} documents from the index. Check the path."
            )
        items = [FileSource(path, root) for path in files]
        report = self.sync(items, progress, policy, dry_run=dry_run, root=str(root))
        report.unsupported = [p.relative_to(root).as_posix() for p in unsupported]
        return report

    def sync(
        self,
        items: Sequence[DocumentSource],
        progress: bool = False,
        policy: AccessPolicy | None = None,
        *,
        only_sources: set[str] | None = None,
        dry_run: bool = False,
        root: str | None = None,
    ) -> IngestReport:
        """Make the store equal to ``items``: the documents of a folder, or of a benchmark.

        ``policy`` gives each document its groups; without one, all get CITED_DEFAULT_GROUPS.
        ``only_sources`` limits the sources that may be replaced or removed to those named (an
        upload or a delete touches one file, not the folder); ``root`` records the folder followed.
        """
        started = time.perf_counter()
        policy = policy or default_policy(self.settings.default_groups)
        with nullcontext() if dry_run else self._locked():
            if dry_run:
                stored, files = self._view()
            else:
                recovered, generation = recover(self.store, self.manifest)
                publisher = Publisher(self.store, self.manifest, generation)
                stored, files = self.manifest.documents(), self.manifest.files()
            run = SyncPlan(stored, files, policy, only_sources)
            pending = [item for item in items if run.classify(item, self.pipeline)]
            if dry_run:
                run.plan_dry_run(pending)
            else:
                run.report.recovered_chunks = recovered
                self._index(pending, run, progress, publisher)
                self._relocate(run, publisher)
                self._apply_groups(run, publisher)
                self._remove_stale(run, root, publisher)
                # BM25 is rebuilt from what the store now shows, so both list the same chunks.
                with run.report.timed("bm25"):
                    self.lexical.catch_up()
        run.report.dry_run = dry_run
        run.report.seconds = time.perf_counter() - started
        return run.report

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One ingest at a time per store (the CLI, uploads and deletes all take it); across
        machines when the shared state is in PostgreSQL (``cited/database/ingest_lock.py``)."""
        from cited.database.ingest_lock import IngestLockTimeoutError, ingest_lock

        try:
            with ingest_lock(self.settings):
                yield
        except IngestLockTimeoutError as exc:
            raise IngestBusyError(f"{exc}; try again when it has finished") from None

    def _view(self) -> tuple[dict[str, DocumentRecord], dict[str, FileRecord]]:
        """What the store shows, without writing anything (for a dry run)."""
        state = self.store.state()
        if not state.hidden and self.manifest.generation() == state.generation:
            return self.manifest.documents(), self.manifest.files()
        chunks: dict[str, list[Chunk]] = {}
        for stored_id, meta in self.store.inventory():
            if state.visible(stored_id):
                chunk = Chunk.from_record(stored_id, "", meta)
                chunks.setdefault(chunk.document_id, []).append(chunk)
        records = {doc_id: records_of(parts) for doc_id, parts in chunks.items()}
        return records, {r.source: FileRecord(r.source, r.document_id, None, None) for r in records.values()}

    # Writing
    def _index(
        self, pending: list[DocumentSource], run: SyncPlan, progress: bool, publisher: Publisher
    ) -> None:
        from tqdm import tqdm

        if pending:
            with run.report.timed("loading"):
                self.chunker.load()
                self.embedder.warm_up()
                if self.multilingual is not None:
                    self.multilingual.model  # noqa: B018 (loads it)
        prepared: list[tuple[LoadedDocument, list[Chunk]]] = []
        for item in pending:
            try:
                started = time.perf_counter()
                document = item.load(self.read_options)
                # What reading took, by part; the rest of the load (hashing, dating) is text's.
                spent = time.perf_counter() - started
                for step, seconds in document.read_seconds.items():
                    run.report.step_seconds[step] += seconds
                run.report.step_seconds["text"] += max(0.0, spent - sum(document.read_seconds.values()))
                with run.report.timed("chunking"):
                    groups = tuple(sorted(run.groups[document.document_id]))
                    prepared.append((document, self.chunker.chunk(document, groups)))
                run.report.ocr_pages += len(document.ocr_pages)
                if document.blank_pages:
                    run.report.warnings.append(
                        (item.source, scans_unread(document.blank_pages, document.blank_reason))
                    )
            except UnreadableFileError as exc:
                run.report.failed.append((item.source, str(exc)))
                run.keep_previous_version(item.source)
        # Known before anything is written, so no group retires a document another one keeps.
        writing = {document.document_id for document, _ in prepared}

        total = sum(len(chunks) for _, chunks in prepared)
        with tqdm(total=total, unit="chunk", desc="Embedding", disable=not progress or total == 0) as bar:
            group: list[tuple[LoadedDocument, list[Chunk]]] = []
            for position, item in enumerate(prepared):
                group.append(item)
                full = sum(len(chunks) for _, chunks in group) >= self.settings.write_batch_chunks
                if full or position == len(prepared) - 1:
                    self._publish_group(group, run, writing, bar, publisher)
                    group = []

    def _publish_group(
        self,
        group: list[tuple[LoadedDocument, list[Chunk]]],
        run: SyncPlan,
        writing: set[str],
        bar: tqdm,
        publisher: Publisher,
    ) -> None:
        """Write one group of documents and make them visible at once (steps 1-4 above)."""
        chunks = [chunk for _, doc_chunks in group for chunk in doc_chunks]
        texts = [c.indexed_text() for c in chunks]
        timed = run.report.timed
        # Span vectors come out of the same encoder pass: the answer path reads them instead of
        # embedding the sentences of every passage it retrieves.
        if self.settings.span_vectors:
            with timed("chunking"):
                spans = [_span_offsets(c) for c in chunks]
            with timed("encoder"):
                vectors, pooled = self.embedder.embed_with_spans(
                    texts, spans, [c.indexed_tokens for c in chunks]
                )
            chunks = [
                replace(c, span_vectors=span_vectors.encode(p)) for c, p in zip(chunks, pooled, strict=True)
            ]
        else:
            with timed("encoder"):
                vectors = self.embedder.embed(texts)
        with timed("encoder"):
            multilingual = self.multilingual.embed(texts) if self.multilingual is not None else None

        new_versions = {doc_chunks[0].version for _, doc_chunks in group}
        retired: dict[str, str] = {}  # version -> document id, replaced by this group
        for document, _ in group:
            same = run.stored.get(document.document_id)
            if same is not None and same.pipeline != self.pipeline:
                retired[same.version] = same.document_id
            previous_id = run.stored_by_source.get(document.source)
            if previous_id and previous_id not in run.keep and previous_id not in writing:
                retired[run.stored[previous_id].version] = previous_id

        with timed("writing"):
            publisher.hide(new_versions)
            crash_point("hidden")
            self.store.add(chunks, vectors, multilingual)
            crash_point("written")
            publisher.publish(
                put=[records_of(doc_chunks) for _, doc_chunks in group],
                drop=[doc_id for doc_id in retired.values() if doc_id not in writing],
                retire=retired,
                crash_after_commit="committed",
                crash_after_publish="published",
            )
        bar.update(len(chunks))
        for document, doc_chunks in group:
            self._record_written(document, len(doc_chunks), run)
        for doc_id in retired.values():
            run.stored.pop(doc_id, None)

    def _record_written(self, document: LoadedDocument, chunks: int, run: SyncPlan) -> None:
        run.keep.add(document.document_id)
        run.report.written[document.source] = document.document_id
        run.report.chunks_written += chunks
        previous = run.stored_by_source.get(document.source)
        if previous is None:
            run.report.added.append(document.source)
        elif previous == document.document_id:
            run.report.reindexed.append(document.source)
        else:
            run.report.replaced.append(document.source)

    def _relocate(self, run: SyncPlan, publisher: Publisher) -> None:
        """Point renamed documents at their new paths (no re-embedding)."""
        for doc_id, item in run.relocations:
            try:
                document = item.load(self.read_options)
            except UnreadableFileError as exc:
                run.report.failed.append((item.source, str(exc)))
                continue
            self.store.relocate_document(doc_id, document.source, document.title)
            old = run.stored[doc_id]
            run.stored[doc_id] = DocumentRecord(
                **{**vars(old), "source": document.source, "title": document.title}
            )
            publisher.publish(put=[run.stored[doc_id]])
            run.report.relocated.append((old.source, item.source))

    def _apply_groups(self, run: SyncPlan, publisher: Publisher) -> None:
        """Re-label kept documents whose groups changed (``access.yaml`` edited, file moved)."""
        for doc_id in sorted(run.keep - set(run.report.written.values())):
            wanted = tuple(sorted(run.groups.get(doc_id, ())))
            stored = run.stored.get(doc_id)
            if stored is None or not wanted or wanted == stored.groups:
                continue
            self.store.set_groups(doc_id, wanted)
            run.stored[doc_id] = DocumentRecord(**{**vars(stored), "groups": wanted})
            publisher.publish(put=[run.stored[doc_id]])
            run.report.regrouped.append((run.sources.get(doc_id, stored.source), wanted))

    def _remove_stale(self, run: SyncPlan, root: str | None, publisher: Publisher) -> None:
        """Hide, record and delete the documents no longer in the folder; record the files."""
        stale = run.stale()
        current_sources = set(run.sources.values()) | {source for source, _ in run.report.failed}
        run.report.removed = sorted(doc.source for doc in stale if doc.source not in current_sources)
        versions = {doc.version: doc.document_id for doc in stale}
        gone_files = [s for s in run.files if s not in run.seen and run.may_change(s)]
        files_changed = gone_files or any(run.files.get(s) != f for s, f in run.seen.items())
        if not (versions or files_changed or (root is not None and root != self.manifest.root())):
            return
        if not versions:
            publisher.record_files(run.seen.values(), gone_files, root)
            return
        publisher.publish(
            drop=versions.values(),
            retire=versions,
            files=run.seen.values(),
            drop_files=gone_files,
            root=root,
            crash_after_publish="removal-published",
        )


def _span_offsets(chunk: Chunk) -> list[tuple[int, int]]:
    """A chunk's spans in the text the encoder reads (title, line break, passage)."""
    shift = len(chunk.title) + 1
    return [(shift + s.start, shift + s.end) for s in passage_spans(chunk)]
