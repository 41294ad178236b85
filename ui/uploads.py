"""Adding a document from the page: the same upload as ``POST /documents``, told in words."""

from __future__ import annotations

import logging
from pathlib import Path

from cited.errors import CitedError
from ingest.changes import CorpusChanges
from ingest.formats import READABLE
from ui.render import error_html, notice_html

log = logging.getLogger("cited.ui")

NOT_ADDED = "Not added."
_VERBS = {
    "added": "Added",
    "replaced": "Replaced",
    "unchanged": "Already indexed, unchanged:",
    "duplicate": "Already indexed as",
}


def add_document(changes: CorpusChanges, path: str | None, groups: frozenset[str] | None) -> str:
    """Upload one file from the page through the same path as POST /documents; a message back."""
    if not path:
        return error_html(f"Choose a file first ({READABLE}).", NOT_ADDED)
    file = Path(path)
    try:
        change = changes.upload(file.name, file.read_bytes(), groups)
    except CitedError as exc:
        return error_html(exc.message, NOT_ADDED)
    except Exception:
        log.exception("the page failed to add %s", file.name)
        return error_html(
            "Something went wrong on our side; it has been logged. Please try again.", NOT_ADDED
        )
    return notice_html(
        f"{_VERBS.get(change.status, change.status)} {change.source} ({change.chunks} passages, readable by "
        f"{', '.join(change.groups)}). You can ask about it now."
    )
