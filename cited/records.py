"""A small JSON file of records (API keys, page users) that a running server re-reads when it
changes on disk, and that is written atomically with owner-only permissions."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class RecordFile:
    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        self.kind = kind  # the JSON key that holds the list: "keys", "users"
        self.lock = threading.RLock()
        self._seen: tuple[int, int] | None = None
        self._rows: list[dict[str, Any]] = []

    def rows(self) -> list[dict[str, Any]]:
        """The records as on disk now; re-read only when the file changed."""
        with self.lock:
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                self._rows, self._seen = [], None
                return []
            seen = (stat.st_mtime_ns, stat.st_size)
            if seen != self._seen:
                self._rows = list(json.loads(self.path.read_text(encoding="utf-8")).get(self.kind, []))
                self._seen = seen
            return list(self._rows)

    def save(self, rows: list[dict[str, Any]]) -> None:
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            temporary.unlink(missing_ok=True)
            temporary.touch(mode=0o600)  # owner-only before any digest is written
            temporary.write_text(json.dumps({self.kind: rows}, indent=2) + "\n", encoding="utf-8")
            temporary.replace(self.path)
            self._seen = None


def now() -> str:
    """A record's timestamp: UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")
