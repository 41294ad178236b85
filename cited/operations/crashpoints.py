"""Named points in the ingest where the crash test kills the process.

``CITED_CRASH_AT=<point>:<n>`` makes the process SIGKILL itself the n-th time it reaches ``point``:
the same signal a user or the OOM killer sends, at an exact step instead of a lucky moment.
Without the variable (every real run) a crash point does nothing.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_reached: Counter[str] = Counter()

POINTS = (
    "hidden",  # a group's new versions are hidden, nothing of them written yet
    "written",  # their chunks are in the store, still hidden
    "committed",  # the manifest records them; the store has not published them
    "published",  # visible, the versions they replace hidden but not deleted
    "removal-published",  # removed documents hidden, not yet deleted
    "lexical",  # the BM25 build is written but not yet made current
)


def crash_point(name: str) -> None:
    target = os.environ.get("CITED_CRASH_AT")
    if not target:
        return
    point, _, count = target.partition(":")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
