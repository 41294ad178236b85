"""One process serves an embedded store: the lock that says which."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from cited.store.chunk_store import ChunkStore

SERVING_LOCK = "serving.lock"


class StoreBusyError(Exception):
    """An embedded store is already served by another process; the message says what to do."""


class ServingClaim:
    """This process's hold on an embedded store, shared by every app it serves from that folder
    (tests run several in one process; they share one Chroma client, so they see each other)."""

    _held: dict[Path, tuple[Any, int]] = {}  # noqa: RUF012  (process-wide by design)
    _guard = threading.Lock()

    def __init__(self, folder: Path) -> None:
        from filelock import FileLock, Timeout

        self.folder = folder.resolve()
        with self._guard:
            lock, count = self._held.get(self.folder, (None, 0))
            if lock is None:
                lock = FileLock(self.folder / SERVING_LOCK)
                try:
                    lock.acquire(timeout=0)
                except Timeout:
                    raise StoreBusyError(
                        f"another Cited process is serving the embedded store in {folder}. Stop it, "
                        "or run several workers against a Chroma server (CITED_CHROMA_HOST; "
                        "docs/operations.md, 'Scaling out')."
                    ) from None
            self._held[self.folder] = (lock, count + 1)

    def release(self) -> None:
        with self._guard:
            lock, count = self._held[self.folder]
            if count == 1:
                lock.release()
                del self._held[self.folder]
            else:
                self._held[self.folder] = (lock, count - 1)


def claim_for_serving(store: ChunkStore) -> ServingClaim | None:
    """Hold the embedded store while this process serves it; None for a Chroma server.

    Chroma's embedded client keeps its vector index in the memory of the process that opened it:
    what a second process writes to the same folder is invisible to the first one's searches until
    it restarts. So one process serves an embedded store, and changes while it serves go through it
    (POST /documents, DELETE /documents/{id}); more workers need a Chroma server.
    """
    if store.embedded_path is None:
        return None
    return ServingClaim(store.embedded_path)


def ensure_not_served(store: ChunkStore) -> None:
    """Refuse to write an embedded store that a server process holds (see claim_for_serving)."""
    claim = claim_for_serving(store)
    if claim is not None:
        claim.release()
