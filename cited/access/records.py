"""The timestamp of access records (keys, users, feedback)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> str:
    """A record's timestamp: UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")
