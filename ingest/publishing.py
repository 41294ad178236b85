"""The one way a change reaches readers: committed to the manifest, then published in one write
of the state record, then the chunks it retires deleted (``cited/store/state.py``).

Every change an ingest makes (a group of new documents, a rename, a re-labelling, a removal) goes
through :meth:`Publisher.publish`, so a kill at any moment leaves the store and the manifest in a
state the next run recovers from (``ingest/recovery.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cited.operations.crashpoints import crash_point
from cited.store.chunk_store import ChunkStore
from ingest.manifest import DocumentRecord, FileRecord, Manifest


class Publisher:
    def __init__(self, store: ChunkStore, manifest: Manifest, generation: int) -> None:
        self.store = store
        self.manifest = manifest
        self.generation = generation  # the store's, as recovery left it

    def hide(self, versions: Iterable[str]) -> None:
        """Hide versions about to be written, so no reader sees them half written."""
        self.store.write_state(self.generation, versions)

    def publish(
        self,
        *,
        put: Iterable[DocumentRecord] = (),
        drop: Iterable[str] = (),
        retire: Mapping[str, str] | None = None,
        files: Iterable[FileRecord] = (),
        drop_files: Iterable[str] = (),
        root: str | None = None,
        crash_after_commit: str | None = None,
        crash_after_publish: str | None = None,
    ) -> None:
        """Commit the manifest for the next generation, then make it visible in one write of the
        state record: hidden versions written before become visible and the ``retire`` versions
        (version -> document id) hidden, then deleted.

        ``crash_after_*`` name the crash test's kill points at those two moments.
        """
        retire = retire or {}
        self.generation += 1
        self.manifest.commit(
            self.generation, put=put, drop=drop, files=files, drop_files=drop_files, root=root
        )
        if crash_after_commit:
            crash_point(crash_after_commit)
        self.store.write_state(self.generation, retire)
        if crash_after_publish:
            crash_point(crash_after_publish)
        if retire:
            self.store.delete_versions(retire)
            self.store.write_state(self.generation, ())

    def record_files(self, files: Iterable[FileRecord], drop_files: Iterable[str], root: str | None) -> None:
        """Record what the folder holds when no document changed (no new generation)."""
        self.manifest.commit(self.generation, files=files, drop_files=drop_files, root=root)
