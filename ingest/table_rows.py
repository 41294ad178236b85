"""Tables as rows that keep their labels: ``Capital expenditures — 2022: 1,749; 2021: 1,603 (millions)``.

A table read cell by cell ("Capital expenditures", "1,749", "1,603", one per line) loses which year a
figure is for, so neither the retriever nor a reader can tell. Each row is written as its label, then
each value after its column's heading; a row without a label, or a table without headings, keeps its
cells in order. Used for DOCX and PPTX tables (their grids) and for PDF tables
(``ingest/pdf_tables.py``, which finds the grid in the page's layout).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_UNITS = re.compile(
    r"\b(?:in|\()\s*(?:u\.?s\.?\s*)?(?:dollars\s+in\s+|\$\s*in\s+)?(millions|billions|thousands)\b",
    re.IGNORECASE,
)


def units_of(caption: str) -> str:
    """``(millions)`` when a caption says its figures are in millions (thousands, billions), else ""."""
    found = _UNITS.search(caption)
    return f"({found.group(1).lower()})" if found else ""


def labelled_row(label: str, values: Sequence[tuple[str, str]], units: str = "") -> str:
    """One row: ``label — heading: value; heading: value units``; values without a heading are
    written alone, and empty values are left out."""
    parts = [f"{heading}: {value}" if heading else value for heading, value in values if value]
    if not parts:
        return label
    body = "; ".join(parts) + (f" {units}" if units else "")
    return f"{label} — {body}" if label else body


def grid_rows(grid: Sequence[Sequence[str]], caption: str = "") -> list[str]:
    """A table given as its cells (first row the headings when it reads like one) as labelled rows."""
    cells = [[" ".join(cell.split()) for cell in row] for row in grid if any(cell.strip() for cell in row)]
    if not cells:
        return []
    width = max(len(row) for row in cells)
    cells = [row + [""] * (width - len(row)) for row in cells]
    units = units_of(caption)
    if width == 1:
        return [row[0] for row in cells]
    headings = cells[0] if len(cells) > 1 and _reads_as_headings(cells[0]) else None
    body = cells[1:] if headings else cells
    lines: list[str] = []
    for row in body:
        # Merged cells repeat their text in every column they span (python-docx, python-pptx).
        values = [
            (headings[i] if headings else "", value)
            for i, value in enumerate(row[1:], start=1)
            if not (value == row[i - 1] and i > 1)
        ]
        lines.append(labelled_row(row[0], [(h, v) for h, v in values if v != row[0]], units))
    return [line for line in lines if line]


def _reads_as_headings(row: Sequence[str]) -> bool:
    # A first row of words, or of years/periods over figures; a row of plain figures is data.
    filled = [cell for cell in row[1:] if cell]
    return bool(filled) and not all(
        re.fullmatch(r"[\d,.$%()\-—– ]+", cell) and not _year(cell) for cell in filled
    )


def _year(cell: str) -> bool:
    return re.fullmatch(r"(?:FY\s?)?(?:19|20)\d\d", cell.strip()) is not None
