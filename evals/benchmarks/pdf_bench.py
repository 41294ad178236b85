"""`cited bench pdf`: the PDF text extractor Cited ships (PDFium, through pypdfium2) against pypdf,
which it replaced, on PDFs generated here with fpdf2.

Two documents: a 40-page report with a heading, paragraphs and a table on every page, and 2,100
lines of dense 8-point text in mixed weights (60 pages). Each extractor reads each document five times,
alternating; the table says the median time a page, and whether each table row came out on one
line, its cells in order ("Region 0 100 m 110 m +3%" from pypdf; "Region 0 — 2024: 100 m; 2025: 110
m; Change: +3%" from the shipped reader, which labels each figure with its column heading,
``ingest/pdf_tables.py``), which is what keeps a row readable as one passage.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from evals.report_files import machine, machine_line, write_report
from ingest.loading import load

_WORDS = [
    "revenue",
    "margin",
    "freight",
    "depot",
    "shift",
    "plant",
    "growth",
    "cost",
    "region",
    "quarter",
    "filing",
    "risk",
    "factor",
]
_ROWS = [("Region", "2024", "2025", "Change")] + [
    (f"Region {r}", f"{100 + r * 7} m", f"{110 + r * 8} m", f"+{r + 3}%") for r in range(8)
]


def write_table_pdf(path: Path, pages: int = 40) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("helvetica", "B", 14)
        pdf.cell(0, 10, f"{page + 1}. Regional results", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=10)
        pdf.multi_cell(
            0, 5, "Revenue in the northern region grew by twelve percent, driven by the new depot. " * 6
        )
        with pdf.table(col_widths=(50, 30, 30, 40)) as table:
            for row in _ROWS:
                cells = table.row()
                for cell in row:
                    cells.cell(cell)
        pdf.multi_cell(0, 5, "Margins held steady while freight costs fell. " * 5)
    pdf.output(str(path))
    return path


def write_dense(path: Path, blocks: int = 30) -> Path:
    """``blocks`` of 70 lines, each begun on a new page (each spills onto a second)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(True, 10)
    for page in range(blocks):
        pdf.add_page()
        for line in range(70):
            for word in range(14):
                pdf.set_font("helvetica", "B" if (line + word) % 7 == 0 else "", 8)
                pdf.write(4, _WORDS[(page + line + word) % len(_WORDS)] + " ")
            pdf.ln(4)
    pdf.output(str(path))
    return path


def _pypdf(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


def _shipped(path: Path) -> list[str]:
    return load(path, path.parent).pages


def _in_order(cells: tuple[str, ...], line: str) -> bool:
    """Every cell of the row in ``line``, left to right."""
    position = 0
    for cell in cells:
        found = line.find(cell, position)
        if found < 0:
            return False
        position = found + len(cell)
    return True


def measure(folder: Path, reports: Path, rounds: int = 5, size: int = 10) -> dict[str, object]:
    """``size``: 10 gives the documents described above; less, smaller ones (for a quick test)."""
    folder.mkdir(parents=True, exist_ok=True)
    documents = {"report, a table on each page": write_table_pdf(folder / "report.pdf", 4 * size),
                 "dense 8-point text": write_dense(folder / "dense.pdf", 3 * size)}  # fmt: skip
    extractors: dict[str, Callable[[Path], list[str]]] = {
        "PDFium (shipped)": _shipped,
        "pypdf (before)": _pypdf,
    }
    rows: list[dict[str, object]] = []
    for document, path in documents.items():
        times: dict[str, list[float]] = {name: [] for name in extractors}
        pages: dict[str, list[str]] = {}
        for number in range(rounds):
            names = list(extractors) if number % 2 == 0 else list(extractors)[::-1]
            for name in names:
                started = time.perf_counter()
                pages[name] = extractors[name](path)
                times[name].append(time.perf_counter() - started)
        for name in extractors:
            lines = [line.strip() for page in pages[name] for line in page.splitlines()]
            whole_rows = sum(any(_in_order(row, line) for line in lines) for row in _ROWS)
            rows.append(
                {
                    "document": document,
                    "extractor": name,
                    "pages": len(pages[name]),
                    "ms_per_page": round(statistics.median(times[name]) / len(pages[name]) * 1000, 2),
                    "table_rows_on_one_line": f"{whole_rows}/{len(_ROWS)}" if "table" in document else "",
                }
            )
    result: dict[str, object] = {
        "command": "cited bench pdf",
        "rounds": rounds,
        "rows": rows,
        **machine(),
    }
    lines = [
        "# PDF text extraction",
        "",
        f"`cited bench pdf`: PDFs generated with fpdf2, each read {rounds} times by each extractor "
        "(alternating); median time a page. The shipped path is Cited's whole PDF reader "
        "(`ingest/loading.py`).",
        "",
        "| document | extractor | pages | ms a page | table rows on one line |",
        "|---|---|---:|---:|---|",
        *(
            f"| {r['document']} | {r['extractor']} | {r['pages']} | {r['ms_per_page']} "
            f"| {r['table_rows_on_one_line']} |"
            for r in rows
        ),
        "",
        machine_line(result),
    ]
    write_report(reports, "pdf-extraction", result, lines)
    return result
