"""What one sync decides before it writes: the report it fills in and the plan it follows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ingest.access import AccessPolicy
from ingest.loading import DocumentSource, document_id
from ingest.manifest import DocumentRecord, FileRecord

# A file modified this close to the run's start may change again within the file system's time
# resolution without its time changing (git's "racy" files): it is recorded without its time, so
# the next run reads it again.
_RACY_SECONDS = 2.0


# The steps an ingest's time is reported by: loading the models (once per process, so the other
# steps time only the work), reading documents (text layers and other formats, tables, OCR),
# chunking them (their sentence spans too), the encoder, writing to Chroma and publishing, and
# rebuilding BM25.
STEPS = ("loading", "text", "tables", "ocr", "chunking", "encoder", "writing", "bm25")


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
    # Indexed, but with pages left unread (scans with OCR off or missing): (source, what and why).
    warnings: list[tuple[str, str]] = field(default_factory=list)
    ocr_pages: int = 0  # scanned pages read by Tesseract (their time is step_seconds["ocr"])
    unsupported: list[str] = field(default_factory=list)
    regrouped: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (source, new groups)
    written: dict[str, str] = field(default_factory=dict)  # source -> document id, this run
    chunks_written: int = 0
    recovered_chunks: int = 0  # left hidden by an interrupted run, deleted by this one
    files_read: int = 0  # files whose bytes were read; the rest matched the manifest
    dry_run: bool = False
    seconds: float = 0.0
    # Where ``seconds`` went, by step (STEPS); the rest is planning, publishing and cleaning up.
    step_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STEPS, 0.0))

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Add the time spent inside the context to ``step``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.step_seconds[step] += time.perf_counter() - started

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class SyncPlan:
    """What one sync has decided so far: what the store holds, what the folder holds, and what to
    keep, index, move and re-label."""

    stored: dict[str, DocumentRecord]  # document id -> its visible version
    files: dict[str, FileRecord]  # source -> what the manifest knows of that file
    policy: AccessPolicy
    only_sources: set[str] | None  # sources this sync may replace or remove; None: every one
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

    def may_change(self, source: str) -> bool:
        return self.only_sources is None or source in self.only_sources

    def classify(self, item: DocumentSource, pipeline: str) -> bool:
        """Settle an unchanged, renamed or duplicate document now; True when it must be indexed."""
        try:
            stat = item.stat()
            known = self.files.get(item.source)
            if (
                stat is not None
                and known
                and (known.size, known.mtime_ns) == stat
                and known.document_id in self.stored
            ):
                doc_id = known.document_id
            else:
                doc_id = document_id(item.read())
                self.report.files_read += 1
        except OSError as exc:
            self.report.failed.append((item.source, f"cannot open the file: {exc.strerror or exc}"))
            self.keep_previous_version(item.source)
            return False
        self.allow(doc_id, item.source)
        self.record_file(item, doc_id, stat)
        if doc_id in self.sources:
            self.report.duplicates.append((item.source, self.sources[doc_id]))
            return False
        self.sources[doc_id] = item.source
        current = self.stored.get(doc_id)
        if current is None or current.pipeline != pipeline:
            return True
        self.keep.add(doc_id)
        if current.source == item.source:
            self.report.unchanged.append(item.source)
        elif not self.may_change(current.source):
            # A run limited to some files (an upload) cannot know the stored copy moved: it is a
            # second copy, readable by the groups of both paths.
            self.groups[doc_id].update(current.groups)
            self.report.duplicates.append((item.source, current.source))
        else:
            self.relocations.append((doc_id, item))
        return False

    def plan_dry_run(self, pending: list[DocumentSource]) -> None:
        """A dry run's report: what a real run would do, from hashes alone (nothing is parsed)."""
        for item in pending:
            doc_id = self.seen[item.source].document_id
            previous = self.stored_by_source.get(item.source)
            label = self.report.added if previous is None else self.report.replaced
            if previous == doc_id:
                label = self.report.reindexed
            label.append(item.source)
            self.keep.add(doc_id)
        for doc_id, item in self.relocations:
            self.report.relocated.append((self.stored[doc_id].source, item.source))
        for doc_id in self.keep:
            wanted = tuple(sorted(self.groups.get(doc_id, ())))
            if doc_id in self.stored and wanted and wanted != self.stored[doc_id].groups:
                self.report.regrouped.append((self.sources.get(doc_id, self.stored[doc_id].source), wanted))
        self.report.removed = self.stale_sources()

    def stale_sources(self) -> list[str]:
        return sorted(doc.source for doc in self.stale() if doc.source not in self.sources.values())

    def stale(self) -> list[DocumentRecord]:
        return [
            doc
            for doc_id, doc in self.stored.items()
            if doc_id not in self.keep and self.may_change(doc.source)
        ]
