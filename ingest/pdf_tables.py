"""Tables on a PDF page, found in PDFium's character layout and written as labelled rows.

PDFium's text of a financial statement gives each cell its own line ("Net sales", "$", "34,229 $",
"35,355"), so a figure loses both its row and its year. Here the page's characters are grouped into
cells (runs of characters with no wide gap) and cells into lines (by height on the page); a run of
lines that each hold a label and figures is a table. The lines above its first row that sit over the
figures are its headings (years, periods), and the lines above those, up to a gap, its caption. Each
row becomes ``label — heading: figure; …`` (``ingest/table_rows.py``), in place of the cells, so the
prose around the table is kept once and the table is not repeated.

Measured against pdfplumber 0.11 on the filings of ``cited bench filings``: pdfplumber took about
0.4 s a page to find tables (1,102 pages: 7 minutes on top of a 10-minute ingest) and left the year
headings outside the grid it found; this takes a few milliseconds a page from the characters PDFium
has already read.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from ingest.table_rows import labelled_row, units_of

# A figure: 1,749 (2,724) -3.2 +12% 33.9 % 100 m 2.4 bn; a dash or n/m for none.
_FIGURE = re.compile(
    r"^\(?[+-]?[$€£]?\s*[+-]?\d[\d,]*(?:\.\d+)?\s*\)?\s*(?:%|pts?|bps|[mkb]n?|million|billion)?$|^[—–-]+$|^n/?m$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"^(?:FY\s?|Q[1-4]\s?)?(?:19|20)\d\d$")
_CURRENCY = {"$", "€", "£", "%"}
# A long table's title is said again every so many rows, so a passage cut from its middle still says
# which table it is ("Consolidated Balance Sheet (continued)"): about one chunk's worth of rows.
_ROWS_PER_TITLE = 8
_MAX_SECTION_LINES = 2
_MIN_ROWS = 2  # fewer rows of figures than this is a sentence that mentions numbers, not a table


@dataclass
class Cell:
    text: str
    left: float
    right: float
    bottom: float
    top: float

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2


@dataclass
class Line:
    cells: list[Cell] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(c.text for c in self.cells)

    def figures(self) -> list[Cell]:
        return [c for c in self.cells if is_figure(c.text)]

    def label(self) -> str:
        return " ".join(c.text for c in self.cells if not is_figure(c.text) and c.text not in _CURRENCY)


def figure_text(text: str) -> str:
    """A cell's figure without the currency signs set apart from it (``$ 1,199 $`` -> ``1,199``)."""
    return text.strip(" $€£").strip()


def is_figure(text: str) -> bool:
    figure = figure_text(text)
    return bool(figure) and bool(_FIGURE.match(figure)) and not _YEAR.match(figure)


def page_cells(text_page: Any) -> list[Cell]:
    """The page's characters as cells: runs on one line with no gap wider than about a character."""
    count = text_page.count_chars()
    if count <= 0:
        return []
    text = text_page.get_text_range(0, count)
    if len(text) != count:  # characters outside the BMP: offsets no longer line up; keep PDFium's text
        return []
    cells: list[Cell] = []
    current: list[tuple[str, float, float, float, float]] = []

    def close() -> None:
        words = "".join(ch for ch, *_ in current).split()
        if words:
            cells.append(
                Cell(
                    " ".join(words),
                    min(b[1] for b in current),
                    max(b[2] for b in current),
                    min(b[3] for b in current),
                    max(b[4] for b in current),
                )
            )
        current.clear()

    for index in range(count):
        ch = text[index]
        if ch in "\r\n":
            close()
            continue
        left, bottom, right, top = text_page.get_charbox(index)
        if ch.isspace() or right <= left:
            if current:
                current.append((" ", *current[-1][1:]))
            continue
        if current:
            last = current[-1]
            height = max(top - bottom, last[4] - last[3], 1.0)
            same_line = abs(bottom - last[3]) < height * 0.6
            gap = left - last[2]
            if not same_line or gap > height * 1.1 or gap < -height:
                close()
        current.append((ch, left, right, bottom, top))
    close()
    return cells


def lines_of(cells: list[Cell]) -> list[Line]:
    """Cells grouped into lines, top of the page first, each line's cells left to right."""
    lines: list[Line] = []
    for cell in sorted(cells, key=lambda c: (-(c.top + c.bottom) / 2, c.left)):
        middle = (cell.top + cell.bottom) / 2
        if lines:
            first = lines[-1].cells[0]  # the line's first cell fixes its height, so lines never grow
            height = max(first.top - first.bottom, 1.0)
            if first.bottom - height * 0.3 <= middle <= first.top + height * 0.3:
                lines[-1].cells.append(cell)
                continue
        lines.append(Line([cell]))
    for line in lines:
        line.cells.sort(key=lambda c: c.left)
    return lines


def _is_row(line: Line) -> bool:
    figures = line.figures()
    return bool(figures) and bool(line.label()) and line.cells[0].left < figures[0].left


def _is_heading(line: Line, columns: list[float], label_right: float) -> bool:
    """No figures, and words over the figures' columns: years, periods, column names. A cell in the
    label column ("(Millions, except per share amounts)") belongs to the caption."""
    if not line.cells or any(is_figure(c.text) for c in line.cells):
        return False
    over = [c for c in line.cells if c.left > label_right]
    return bool(over) and any(_column_heading(x, over) is not None for x in columns)


def _column_heading(x: float, over: list[Cell]) -> Cell | None:
    """The heading cell over the figure centred at ``x``: the nearest one, if it is within its own
    width or half the distance to its neighbour (headings are often centred over figures that are
    set right, or left of a "$" column)."""
    near = min(over, key=lambda c: abs(c.centre - x))
    centres = sorted(c.centre for c in over)
    spacing = min((b - a for a, b in pairwise(centres)), default=float("inf"))
    reach = max((near.right - near.left) * 1.5, 20.0, min(spacing / 2, 80.0))
    return near if near.left - reach <= x <= near.right + reach else None


def _heading_for(x: float, headings: list[Line], label_right: float) -> str:
    parts = []
    for line in headings:
        over = [c for c in line.cells if c.left > label_right]
        if over and (cell := _column_heading(x, over)) is not None:
            parts.append(cell.text)
    return " ".join(parts)


def _title_of(caption_lines: list[str]) -> str:
    """The line of a table's caption that names it: the last short line of words (no dates, no
    running header such as "Table of Contents", no units note), else the last short line."""
    usable = [
        line.strip()
        for line in caption_lines
        if 3 <= len(line.strip()) <= 90
        and re.search(r"[A-Za-z]{3}", line)
        and not _FURNITURE.match(line.strip())
    ]
    return next(
        (line for line in reversed(usable) if not re.search(r"\d", line)), usable[-1] if usable else ""
    )


_FURNITURE = re.compile(
    r"^(?:table of contents|\(?(?:in |dollars in |\$ in )?(?:millions|thousands|billions).*)$", re.I
)


def table_text(text_page: Any) -> tuple[str | None, int]:
    """The page's text with each table as labelled rows, and how many tables; None when it has none
    (the caller then keeps PDFium's own text, which reads multi-column prose in better order)."""
    lines = lines_of(page_cells(text_page))
    rows = [_is_row(line) for line in lines]
    if sum(rows) < _MIN_ROWS:
        return None, 0
    out: list[str] = []
    tables = 0
    index = 0
    while index < len(lines):
        if not rows[index]:
            out.append(lines[index].text)
            index += 1
            continue
        # A table: rows, with label-only lines (section names, wrapped labels) between them.
        end = index
        while end + 1 < len(lines) and (
            rows[end + 1] or (end + 2 < len(lines) and rows[end + 2] and not lines[end + 1].figures())
        ):
            end += 1
        block = lines[index : end + 1]
        if sum(rows[index : end + 1]) < _MIN_ROWS:
            out.extend(line.text for line in block)
            index = end + 1
            continue
        tables += 1
        columns = sorted({round(f.centre) for line in block if line.figures() for f in line.figures()})
        label_right = statistics.median(line.cells[0].right for line in block)
        # Up to three heading lines above the first row; up to two section names ("Assets",
        # "Current assets") may sit between them and the row, and stay where they are.
        heading_lines: list[Line] = []
        above = index - 1
        sections: list[str] = []
        while (
            len(sections) < _MAX_SECTION_LINES
            and above >= 0
            and out
            and not lines[above].figures()
            and all(c.left <= label_right for c in lines[above].cells)
        ):
            sections.insert(0, out.pop())
            above -= 1
        while (
            above >= 0 and len(heading_lines) < 3 and out and _is_heading(lines[above], columns, label_right)
        ):
            heading_lines.insert(0, lines[above])
            out.pop()
            above -= 1
        if not heading_lines:  # no headings above the sections: they were caption lines after all
            out.extend(sections)
            sections = []
        in_label_column = [c.text for line in heading_lines for c in line.cells if c.left <= label_right]
        caption = " ".join(out[-3:] + in_label_column)
        title = _title_of(out[-4:])
        if in_label_column:
            out.append(" ".join(in_label_column))
        out.extend(sections)
        units = units_of(caption)
        rows_written = 0
        for line in block:
            figures = [c for c in line.cells if is_figure(c.text)]
            if not figures:
                out.append(line.label())
                continue
            if title and rows_written and rows_written % _ROWS_PER_TITLE == 0:
                out.append(f"{title} (continued)")
            values = [
                (_heading_for(f.centre, heading_lines, label_right), figure_text(f.text)) for f in figures
            ]
            out.append(labelled_row(line.label(), values, units))
            rows_written += 1
        index = end + 1
    return "\n".join(out), tables
