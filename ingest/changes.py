"""Changing the corpus over HTTP: upload a document, delete one.

The index follows a folder (the one `cited ingest` last synced, recorded in the manifest), so an
upload is a file written into that folder and a delete is a file taken out of it, each followed by
the same sync as `cited ingest`, limited to that file: the folder stays the truth, and the next
full ingest agrees with what the API did. Uploads go to ``uploads/`` in that folder, where
``access.yaml`` can give them their own groups.

Nothing is lost to a bad upload: the file is parsed before it replaces anything, and if the sync
cannot run, the previous file is put back. A deleted file is moved to ``<data dir>/deleted/``, not
erased.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from cited.access.records import now
from cited.errors import (
    BusyError,
    CitedError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    TooLargeError,
    UnsupportedTypeError,
)
from cited.operations.metrics import Metrics
from cited.settings import Settings
from ingest.access import AccessPolicy, AccessPolicyError, load_policy
from ingest.document_chunks import read_options
from ingest.filenames import BadFileNameError, safe_upload_name
from ingest.loading import FileSource, ScansOnlyError, UnreadableFileError, load
from ingest.manifest import Manifest
from ingest.ocr import missing_reason
from ingest.sync import IngestBusyError, Ingestor
from ingest.sync_plan import IngestReport

UPLOAD_FOLDER = "uploads"


INGEST_BUSY_RETRY_S = 5  # a sync limited to one file takes seconds


@dataclass(frozen=True)
class Change:
    status: str  # added | replaced | unchanged | duplicate | removed
    document_id: str
    source: str
    title: str
    chunks: int
    groups: tuple[str, ...]
    removed_sources: tuple[str, ...] = ()


class CorpusChanges:
    """Uploads and deletes: the ingest side of the server, called by its router and its page.

    ``ingestor`` shares the serving process's embedder, store and BM25 freshness, so the process
    answers from the new version as soon as a change returns.
    """

    def __init__(self, settings: Settings, ingestor: Ingestor, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.ingestor = ingestor
        self.store = ingestor.store
        self.manifest = Manifest(settings.manifest_path)

    def root(self) -> Path:
        """The folder the index follows: the last one ingested, else CITED_CORPUS_DIR."""
        recorded = self.manifest.root()
        root = Path(recorded) if recorded else self.settings.corpus_dir.resolve()
        if not root.is_dir():
            raise ConflictError(
                "corpus_missing",
                f"the folder this index follows ({root}) is not on this machine; run the API where "
                "that folder is, or `cited ingest` a folder here first",
            )
        return root

    # Upload
    def upload(self, filename: str, data: bytes, groups: frozenset[str] | None) -> Change:
        try:
            name = safe_upload_name(filename)
        except BadFileNameError as exc:
            if exc.unsupported_type:
                raise UnsupportedTypeError("unsupported_type", str(exc)) from None
            raise InvalidInputError("bad_file_name", str(exc)) from None
        if len(data) > self.settings.max_upload_bytes:
            raise TooLargeError(
                "file_too_large", f"the file is over {self.settings.max_upload_bytes} bytes; split it"
            )
        root = self.root()
        source = f"{UPLOAD_FOLDER}/{name}"
        try:
            policy = load_policy(root, self.settings.default_groups)
        except AccessPolicyError as exc:
            raise ConflictError("access_rules_invalid", str(exc)) from None
        readers = policy.groups_for(source)
        if groups is not None and groups.isdisjoint(readers):
            raise ForbiddenError(
                "forbidden",
                f"documents uploaded as {source} are readable by {', '.join(readers)} (access.yaml), "
                "and you are in none of those groups",
            )
        target = root / UPLOAD_FOLDER / name
        target.parent.mkdir(parents=True, exist_ok=True)
        # Parsed before it replaces anything: a broken file never costs the previous version.
        staged = self._stage(target.parent, name, data)
        try:
            self._check_readable(staged, target.parent)
        except UnreadableFileError as exc:
            staged.unlink(missing_ok=True)
            raise InvalidInputError("unreadable_file", f"{name}: {exc}") from None
        previous = target.read_bytes() if target.exists() else None
        staged.replace(target)
        try:
            report = self._sync([FileSource(target, root)], {source}, policy)
        except CitedError:
            if previous is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(previous)
            raise
        change = self._upload_result(report, source, readers)
        if self.metrics is not None and change.status in ("added", "replaced"):
            self.metrics.ingested_documents.inc()
            self.metrics.ingested_chunks.inc(report.chunks_written)
        return change

    @staticmethod
    def _stage(folder: Path, name: str, data: bytes) -> Path:
        # Hidden (leading dot): a concurrent `cited ingest` never picks up a half-written file.
        handle, path = tempfile.mkstemp(prefix=".upload-", suffix=Path(name).suffix, dir=folder)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        return Path(path)

    def _check_readable(self, staged: Path, folder: Path) -> None:
        """Raises :class:`UnreadableFileError` when the ingest could not read the file. Scanned
        pages are not read here (OCR takes seconds a page, and the ingest reads them next): a file
        of nothing but scans passes when OCR is on and can run."""
        options = read_options(self.settings)
        try:
            load(staged, folder, replace(options, ocr=False))
        except ScansOnlyError:
            if not options.ocr or missing_reason(options.ocr_languages) is not None:
                load(staged, folder, options)  # raises, saying why OCR cannot read it

    def _upload_result(self, report: IngestReport, source: str, readers: tuple[str, ...]) -> Change:
        if report.failed:
            raise InvalidInputError("unreadable_file", f"{source}: {report.failed[0][1]}")
        documents = {d.source: d for d in self.store.documents()}
        if report.duplicates:
            original = report.duplicates[0][1]
            stored = documents[original]
            status = "duplicate"
        else:
            stored = documents[source]
            status = (
                "added"
                if report.added
                else "replaced"
                if (report.replaced or report.reindexed)
                else "unchanged"
            )
        return Change(status, stored.document_id, stored.source, stored.title, stored.chunks, readers)

    # Delete
    def delete(self, document_id: str, groups: frozenset[str] | None) -> Change:
        readable = {d.document_id: d for d in self.store.documents(groups)}
        stored = readable.get(document_id)
        if stored is None:
            # The same answer whether it does not exist or the caller may not read it.
            raise NotFoundError(
                "document_not_found", f"no document {document_id!r}; GET /documents lists them"
            )
        root = self.root()
        sources = sorted(
            {stored.source}
            | {f.source for f in self.manifest.files().values() if f.document_id == document_id}
        )
        trash = self.settings.data_dir / "deleted" / now().replace(":", "")
        moved: list[tuple[Path, Path]] = []
        for source in sources:
            path = root / source
            if path.is_file():
                keep = trash / source
                keep.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(path, keep)
                moved.append((path, keep))
        try:
            self._sync([], set(sources), None)
        except CitedError:
            for path, keep in moved:
                shutil.move(keep, path)
            raise
        return Change("removed", document_id, stored.source, stored.title, 0, (), tuple(sources))

    def _sync(
        self, items: list[FileSource], only_sources: set[str], policy: AccessPolicy | None
    ) -> IngestReport:
        try:
            # The sync brings this process's BM25 up to date; other workers follow within seconds.
            return self.ingestor.sync(items, policy=policy, only_sources=only_sources)
        except IngestBusyError as exc:
            raise BusyError("ingest_busy", str(exc), INGEST_BUSY_RETRY_S) from None
