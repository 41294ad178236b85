"""Make the store equal to a folder: add new files, replace changed ones, drop removed ones.

A document is identified by the hash of its bytes, so an unchanged file is recognised without
parsing it and is never embedded again; the manifest (``ingest/manifest.py``) remembers each
file's size and modification time, so an untouched file is not even read.

Every change is published the same way, so a reader never sees half of one and a kill at any
moment loses nothing (``cited/store.py`` explains the state record):

1. embed a group of documents (nothing is written yet);
2. hide their new versions in the state record, then write their chunks;
3. commit the manifest, then publish in one write of the state record: the new versions become
   visible and the versions they replace become hidden;
4. delete the replaced chunks and clear the hidden list.

A run that starts after a crash first deletes whatever the state record still hides (a group
written but never published, or chunks replaced but not yet deleted) and rebuilds the manifest if
it does not describe the store's generation. A file that fails to read keeps its previous version.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cited.crashpoints import crash_point
from cited.embedding import EMBEDDER_NAMES, MULTILINGUAL_MODEL_NAME, Embedder, MultilingualEmbedder
from cited.lexical import open_lexical, sync_lexical
from cited.records import now
from cited.settings import Settings
from cited.store import Chunk, ChunkStore, chunk_id
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
from ingest.manifest import DocumentRecord, FileRecord, Manifest, records_of

if TYPE_CHECKING:
    from tqdm import tqdm

# Bump when loading or chunking changes in a way that alters stored chunks.
PIPELINE_VERSION = "1"
# A file modified this close to the run's start may change again within the file system's time
# resolution without its time changing (git's "racy" files): it is recorded without its time, so
# the next run reads it again.
_RACY_SECONDS = 2.0


class IngestError(Exception):
    """The ingest cannot start: a bad folder, or a request that would empty the index."""


class IngestBusyError(IngestError):
    """Another ingest holds the lock on this data directory."""


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
    written: dict[str, str] = field(default_factory=dict)  # source -> document id, this run
    chunks_written: int = 0
    lexical_rebuilt: bool = False
    recovered_chunks: int = 0  # left hidden by an interrupted run, deleted by this one
    manifest_rebuilt: bool = False
    files_read: int = 0  # files whose bytes were read; the rest matched the manifest
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def changes(self) -> int:
        return (
            len(self.added)
            + len(self.replaced)
            + len(self.reindexed)
            + len(self.removed)
            + len(self.relocated)
            + len(self.regrouped)
        )


@dataclass
class _Run:
    """What one ingest run has decided so far."""

    stored: dict[str, DocumentRecord]  # document id -> its visible version
    files: dict[str, FileRecord]  # source -> what the manifest knows of that file
    policy: AccessPolicy
    scope: set[str] | None  # sources this run may remove; None: every one
    started: float = field(default_factory=time.time)
    report: IngestReport = field(default_factory=IngestReport)
    keep: set[str] = field(default_factory=set)  # document ids whose stored version stays
    sources: dict[str, str] = field(default_factory=dict)  # document id -> source, this run
    seen: dict[str, FileRecord] = field(default_factory=dict)  # source -> file record, this run
    relocations: list[tuple[str, DocumentSource]] = field(default_factory=list)
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

    def record_file(self, item: DocumentSource, doc_id: str, stat: tuple[int, int] | None) -> None:
        racy = stat is None or stat[1] / 1e9 > self.started - _RACY_SECONDS
        size, mtime = (None, None) if racy or stat is None else stat
        self.seen[item.source] = FileRecord(item.source, doc_id, size, mtime)

    def in_scope(self, source: str) -> bool:
        return self.scope is None or source in self.scope


def pipeline_fingerprint(settings: Settings) -> str:
    """Changes whenever ingesting the same bytes again would give different chunks or vectors."""
    models = [EMBEDDER_NAMES[settings.embedder]] + (
        [MULTILINGUAL_MODEL_NAME] if settings.multilingual else []
    )
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
        self.manifest = Manifest(settings.manifest_path)
        self.pipeline = pipeline_fingerprint(settings)
        self._chunker: Chunker | None = None
        self._generation = 0

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
                f"{root} holds no supported documents (.txt .md .html .pdf .docx); refusing to "
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
        scope: set[str] | None = None,
        dry_run: bool = False,
        root: str | None = None,
    ) -> IngestReport:
        """Make the store equal to ``items``: the documents of a folder, or of a benchmark.

        ``policy`` gives each document its groups; without one, all get CITED_DEFAULT_GROUPS.
        ``scope`` limits the sources that may be replaced or removed to those named (an upload
        or a delete touches one file, not the folder); ``root`` records the folder followed.
        """
        started = time.perf_counter()
        policy = policy or default_policy(self.settings.default_groups)
        with nullcontext() if dry_run else self._locked():
            if dry_run:
                stored, files = self._view()
            else:
                recovered, rebuilt = self.recover()
                stored, files = self.manifest.documents(), self.manifest.files()
            run = _Run(stored, files, policy, scope)
            if not dry_run:
                run.report.recovered_chunks, run.report.manifest_rebuilt = recovered, rebuilt
            pending = [item for item in items if self._classify(item, run)]
            if dry_run:
                self._plan(pending, run)
            else:
                self._index(pending, run, progress)
                self._relocate(run)
                self._apply_groups(run)
                self._remove_stale(run, root)
                # BM25 is rebuilt from what the store now shows, so both list the same chunks.
                run.report.lexical_rebuilt = sync_lexical(self.store, self.lexical)
        run.report.dry_run = dry_run
        run.report.seconds = time.perf_counter() - started
        return run.report

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One ingest at a time per data directory (the CLI, uploads and deletes all take it)."""
        from filelock import FileLock, Timeout

        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.settings.data_dir / "ingest.lock")
        try:
            lock.acquire(timeout=self.settings.ingest_lock_seconds)
        except Timeout:
            raise IngestBusyError(
                f"another ingest is running on {self.settings.data_dir}; try again when it has finished"
            ) from None
        try:
            yield
        finally:
            lock.release()

    # Recovery
    def recover(self) -> tuple[int, bool]:
        """Finish what an interrupted run left: delete hidden chunks, make the manifest match.

        Returns (chunks deleted, whether the manifest was rebuilt).
        """
        state = self.store.state()
        leftovers = self.store.version_chunks(state.hidden) + self.store.multilingual_orphans()
        if leftovers:
            self.store.delete_chunks(leftovers)
        if state.hidden:
            state = self.store.write_state(state.generation, ())
        self._generation = state.generation
        rebuilt = self.manifest.generation() != state.generation
        if rebuilt:
            self.manifest.rebuild(self.store, state.generation)
        return len(leftovers), rebuilt

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

    # Deciding
    def _classify(self, item: DocumentSource, run: _Run) -> bool:
        """Settle an unchanged, renamed or duplicate document now; True when it must be indexed."""
        try:
            stat = item.stat()
            known = run.files.get(item.source)
            if (
                stat is not None
                and known
                and (known.size, known.mtime_ns) == stat
                and known.document_id in run.stored
            ):
                doc_id = known.document_id
            else:
                doc_id = document_id(item.read())
                run.report.files_read += 1
        except OSError as exc:
            run.report.failed.append((item.source, f"cannot open the file: {exc.strerror or exc}"))
            run.keep_previous_version(item.source)
            return False
        run.allow(doc_id, item.source)
        run.record_file(item, doc_id, stat)
        if doc_id in run.sources:
            run.report.duplicates.append((item.source, run.sources[doc_id]))
            return False
        run.sources[doc_id] = item.source
        current = run.stored.get(doc_id)
        if current is None or current.pipeline != self.pipeline:
            return True
        run.keep.add(doc_id)
        if current.source == item.source:
            run.report.unchanged.append(item.source)
        elif not run.in_scope(current.source):
            # A run limited to some files (an upload) cannot know the stored copy moved: it is a
            # second copy, readable by the groups of both paths.
            run.groups[doc_id].update(current.groups)
            run.report.duplicates.append((item.source, current.source))
        else:
            run.relocations.append((doc_id, item))
        return False

    def _plan(self, pending: list[DocumentSource], run: _Run) -> None:
        """A dry run's report: what a real run would do, from hashes alone (nothing is parsed)."""
        for item in pending:
            doc_id = run.seen[item.source].document_id
            previous = run.stored_by_source.get(item.source)
            label = run.report.added if previous is None else run.report.replaced
            if previous == doc_id:
                label = run.report.reindexed
            label.append(item.source)
            run.keep.add(doc_id)
        for doc_id, item in run.relocations:
            run.report.relocated.append((run.stored[doc_id].source, item.source))
        for doc_id in run.keep:
            wanted = tuple(sorted(run.groups.get(doc_id, ())))
            if doc_id in run.stored and wanted and wanted != run.stored[doc_id].groups:
                run.report.regrouped.append((run.sources.get(doc_id, run.stored[doc_id].source), wanted))
        run.report.removed = self._stale_sources(run)

    # Writing
    def _index(self, pending: list[DocumentSource], run: _Run, progress: bool) -> None:
        from tqdm import tqdm

        prepared: list[tuple[LoadedDocument, list[Chunk]]] = []
        for item in pending:
            try:
                document = item.load()
                groups = tuple(sorted(run.groups[document.document_id]))
                prepared.append((document, self.chunk(document, groups)))
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
                    self._publish_group(group, run, writing, bar)
                    group = []

    def _publish_group(
        self,
        group: list[tuple[LoadedDocument, list[Chunk]]],
        run: _Run,
        writing: set[str],
        bar: tqdm,
    ) -> None:
        """Write one group of documents and make them visible at once (steps 1-4 above)."""
        chunks = [chunk for _, doc_chunks in group for chunk in doc_chunks]
        texts = [c.indexed_text() for c in chunks]
        vectors = self.embedder.embed(texts)
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

        self.store.write_state(self._generation, new_versions)
        crash_point("hidden")
        self.store.add(chunks, vectors, multilingual)
        crash_point("written")
        self._generation += 1
        self.manifest.commit(
            self._generation,
            put=[records_of(doc_chunks) for _, doc_chunks in group],
            drop=[doc_id for doc_id in retired.values() if doc_id not in writing],
        )
        crash_point("committed")
        self.store.write_state(self._generation, retired)
        crash_point("published")
        if retired:
            self.store.delete_chunks(self.store.version_chunks(retired))
            self.store.write_state(self._generation, ())
        bar.update(len(chunks))
        for document, doc_chunks in group:
            self._record_written(document, len(doc_chunks), run)
        for doc_id in retired.values():
            run.stored.pop(doc_id, None)

    def _record_written(self, document: LoadedDocument, chunks: int, run: _Run) -> None:
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

    def _relocate(self, run: _Run) -> None:
        """Point renamed documents at their new paths (no re-embedding)."""
        for doc_id, item in run.relocations:
            try:
                document = item.load()
            except UnreadableFileError as exc:
                run.report.failed.append((item.source, str(exc)))
                continue
            self.store.relocate_document(doc_id, document.source, document.title)
            old = run.stored[doc_id]
            run.stored[doc_id] = DocumentRecord(
                **{**vars(old), "source": document.source, "title": document.title}
            )
            self._generation += 1
            self.manifest.commit(self._generation, put=[run.stored[doc_id]])
            self.store.write_state(self._generation, ())
            run.report.relocated.append((old.source, item.source))

    def _apply_groups(self, run: _Run) -> None:
        """Re-label kept documents whose groups changed (``access.yaml`` edited, file moved)."""
        for doc_id in sorted(run.keep - set(run.report.written.values())):
            wanted = tuple(sorted(run.groups.get(doc_id, ())))
            stored = run.stored.get(doc_id)
            if stored is None or not wanted or wanted == stored.groups:
                continue
            self.store.set_groups(doc_id, wanted)
            run.stored[doc_id] = DocumentRecord(**{**vars(stored), "groups": wanted})
            self._generation += 1
            self.manifest.commit(self._generation, put=[run.stored[doc_id]])
            self.store.write_state(self._generation, ())
            run.report.regrouped.append((run.sources.get(doc_id, stored.source), wanted))

    def _stale_sources(self, run: _Run) -> list[str]:
        return sorted(doc.source for doc in self._stale(run) if doc.source not in run.sources.values())

    def _stale(self, run: _Run) -> list[DocumentRecord]:
        return [
            doc for doc_id, doc in run.stored.items() if doc_id not in run.keep and run.in_scope(doc.source)
        ]

    def _remove_stale(self, run: _Run, root: str | None) -> None:
        """Hide, record and delete the documents no longer in the folder; record the files."""
        stale = self._stale(run)
        current_sources = set(run.sources.values()) | {source for source, _ in run.report.failed}
        run.report.removed = sorted(doc.source for doc in stale if doc.source not in current_sources)
        versions = {doc.version: doc.document_id for doc in stale}
        gone_files = [s for s in run.files if s not in run.seen and run.in_scope(s)]
        files_changed = gone_files or any(run.files.get(s) != f for s, f in run.seen.items())
        if not (versions or files_changed or (root is not None and root != self.manifest.root())):
            return
        if versions:
            self._generation += 1
        self.manifest.commit(
            self._generation,
            drop=versions.values(),
            files=run.seen.values(),
            drop_files=gone_files,
            root=root,
        )
        if not versions:
            return
        self.store.write_state(self._generation, versions)
        crash_point("removal-published")
        self.store.delete_chunks(self.store.version_chunks(versions))
        self.store.write_state(self._generation, ())

    # Chunking
    def chunk(self, document: LoadedDocument, groups: tuple[str, ...]) -> list[Chunk]:
        """The chunks a document is stored as (deterministic: the same bytes give the same ones)."""
        if self._chunker is None:
            self._chunker = Chunker(
                self.embedder.tokenize, self.settings.chunk_size, self.settings.chunk_overlap
            )
        pages = [clean(page).text for page in document.pages]
        if not any(page.strip() for page in pages):
            raise UnreadableFileError("nothing but page furniture was left after cleaning")
        spans = self._chunker.split_pages(pages)[1] if document.paged else self._chunker.split(pages[0])
        ingested_at = now()
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
                sha256=document.sha256,
                ingested_at=ingested_at,
            )
            for i, span in enumerate(spans)
        ]
