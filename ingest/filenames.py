"""Names for uploaded files: whatever the client sends, the file lands in the upload folder.

pathvalidate does the sanitising (reserved characters, Windows device names, trailing dots,
length), keeping non-ASCII letters that werkzeug's ``secure_filename`` would drop (a Chinese file
name would become empty). Directory parts are cut off first, so no name reaches outside the folder.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from pathvalidate import sanitize_filename

from ingest.access import ACCESS_FILE
from ingest.formats import SUPPORTED_SUFFIXES

MAX_NAME_CHARS = 150


class BadFileNameError(ValueError):
    """A name that cannot be stored; the message says why and what to send instead."""

    def __init__(self, message: str, unsupported_type: bool = False) -> None:
        super().__init__(message)
        self.unsupported_type = unsupported_type  # 415 rather than 422


def safe_upload_name(name: str) -> str:
    """The file name to store an upload under; raises :class:`BadFileNameError`."""
    if "\x00" in name:
        raise BadFileNameError("the file name contains a NUL character; rename the file")
    # "..\\..\\x.md" and "../../x.md" both end up as "x.md": only the last part is a name.
    last = PurePosixPath(name.replace("\\", "/")).name
    cleaned = sanitize_filename(last, max_len=MAX_NAME_CHARS).strip()
    if not cleaned or cleaned.startswith(".") or cleaned in {".", ".."}:
        raise BadFileNameError(
            f"{name!r} is not a usable file name (empty, or hidden after removing its folders); "
            "send a name like 'strategy-2026.pdf'"
        )
    if cleaned == ACCESS_FILE:
        raise BadFileNameError(f"{ACCESS_FILE} is the name of the access rules file; rename the upload")
    suffix = PurePosixPath(cleaned).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise BadFileNameError(
            f"{cleaned!r} is not a type Cited reads; send one of {' '.join(sorted(SUPPORTED_SUFFIXES))}",
            unsupported_type=True,
        )
    return cleaned
