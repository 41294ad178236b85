"""A slide deck (``.pptx``, through python-pptx) as one text per slide.

Each slide becomes: its title on a line of its own (read as a heading by ``cited/text/structure.py``),
then its text frames, tables (labelled rows, ``ingest/table_rows.py``) and the shapes of its groups,
in reading order (top to bottom, then left to right), then its speaker notes. The slides are the
document's pages, so a chunk never crosses slides and each passage knows its slide.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ingest.table_rows import grid_rows

_ROW_TOLERANCE_EMU = 91_440  # a tenth of an inch: shapes this close in height read as one row


class DeckError(Exception):
    """The deck cannot be read; the message says why."""


@dataclass(frozen=True)
class Deck:
    title: str | None  # its properties' title, else the first slide's
    slides: list[str]
    created: str | None  # ISO 8601, from its properties
    names: tuple[str, ...]  # its properties' subject and keywords


def office_properties(properties: Any) -> tuple[str | None, tuple[str, ...]]:
    """When an Office file was made (ISO 8601) and the other names it gives itself (subject,
    keywords), from its core properties (python-docx and python-pptx share them)."""
    made = properties.created or properties.modified
    names = tuple(str(p) for p in (properties.subject, properties.keywords) if p)
    return (made.date().isoformat() if made else None), names


def read_deck(data: bytes) -> Deck:
    """The deck's title, each slide's text, and what its properties say."""
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE2: an encrypted Office file, or a .ppt
        raise DeckError(
            "the deck is password-protected (or an old .ppt saved as .pptx); save a copy without a "
            "password as .pptx"
        )
    try:
        deck = Presentation(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DeckError(f"not a readable PPTX ({type(exc).__name__}: {exc})") from exc
    slides: list[str] = []
    first_title: str | None = None
    for slide in deck.slides:
        title_shape = slide.shapes.title
        title = (
            _clean(title_shape.text_frame.text)
            if title_shape is not None and title_shape.has_text_frame
            else ""
        )
        first_title = first_title or title or None
        blocks = [title] if title else []
        skip = {title_shape.shape_id} if title_shape is not None else set()
        blocks.extend(_shape_blocks(slide.shapes, skip, title))
        if slide.has_notes_slide:
            notes = (
                _clean(slide.notes_slide.notes_text_frame.text) if slide.notes_slide.notes_text_frame else ""
            )
            if notes:
                blocks.append(f"Speaker notes: {notes}")
        slides.append("\n\n".join(block for block in blocks if block))
    title = (deck.core_properties.title or "").strip() or first_title
    created, names = office_properties(deck.core_properties)
    return Deck(title, slides, created, names)


def _reading_order(shapes: Iterable[Any]) -> list[Any]:
    def key(shape: Any) -> tuple[int, int]:
        top = shape.top if shape.top is not None else 0
        left = shape.left if shape.left is not None else 0
        return (top // _ROW_TOLERANCE_EMU, left)

    return sorted(shapes, key=key)


def _shape_blocks(shapes: Iterable[Any], skip: set[int], caption: str) -> list[str]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    blocks: list[str] = []
    for shape in _reading_order(shapes):
        if shape.shape_id in skip:
            continue
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            blocks.extend(_shape_blocks(shape.shapes, skip, caption))
        elif getattr(shape, "has_table", False) and shape.has_table:
            grid = [[cell.text for cell in row.cells] for row in shape.table.rows]
            blocks.append("\n".join(grid_rows(grid, caption)))
        elif shape.has_text_frame:
            # A blank line after each paragraph, as between the paragraphs of a text file: the
            # chunker and the passage structure both read a paragraph as a block of its own.
            paragraphs = [_clean(p.text) for p in shape.text_frame.paragraphs]
            text = "\n\n".join(p for p in paragraphs if p)
            if text:
                blocks.append(text)
    return blocks


def _clean(text: str) -> str:
    # A vertical tab is PowerPoint's line break inside a paragraph.
    return " ".join(text.replace("\x0b", " ").split())
