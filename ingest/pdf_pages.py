"""A PDF's pages as text: PDFium's text layer, tables as labelled rows, scans through OCR.

Each page's text layer is read with PDFium (pypdfium2, Apache-2.0/BSD), Chrome's PDF engine; alone
it took 0.40 against pypdf's 3.64 ms a page with a table on each page, 1.26 against 21.17 ms a page
of dense 8-point text (``cited bench pdf`` when pypdf was replaced). A page with tables is rewritten
so each row keeps its labels; finding them reads every character's box, which brings the shipped
reader to 4.0 ms and 11.6 ms a page on the same two documents (``reports/pdf-extraction.md``),
against about 200 ms a page in the encoder on the filings of ``cited bench filings``
(``ingest/pdf_tables.py``); a page with no text layer but an image on it is a scan, read by
Tesseract (``ingest/ocr.py``) unless OCR is off or missing, in which case the page is listed.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ingest import ocr
from ingest.pdf_tables import table_text

# A page with fewer characters of text layer than this, and an image, is a scan: a page number or
# a stamp printed over a scanned page does not make it text.
_SCAN_MAX_CHARS = 20
_PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
_PDFIUM = threading.Lock()  # PDFium is not thread-safe: one document at a time in a process


class PdfError(Exception):
    """The PDF cannot be opened or read; the message says why."""


@dataclass(frozen=True)
class ReadOptions:
    """How documents are read (``CITED_OCR``, ``CITED_OCR_LANGUAGES``, ``CITED_TABLE_ROWS``)."""

    ocr: bool = True
    ocr_languages: str = "eng"
    table_rows: bool = True


@dataclass
class PdfPages:
    title: str | None
    pages: list[str]
    ocr_pages: set[int] = field(default_factory=set)  # 1-based pages read by OCR
    blank_pages: list[int] = field(default_factory=list)  # 1-based scans left unread
    blank_reason: str = ""  # why they were left unread
    tables: int = 0
    properties: dict[str, str] = field(default_factory=dict)  # its document information (Title, …)
    seconds: dict[str, float] = field(default_factory=lambda: {"text": 0.0, "tables": 0.0, "ocr": 0.0})


def read_pdf(data: bytes, options: ReadOptions) -> PdfPages:
    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(data)  # no password: owner-only PDFs open, as in any viewer
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == _PDFIUM_PASSWORD_ERROR:
                raise PdfError(
                    "the PDF needs a password to open; save a copy without one (or ask its owner for one)"
                ) from None
            raise PdfError(f"not a readable PDF ({exc})") from exc
        try:
            properties = {k: v.strip() for k, v in document.get_metadata_dict().items() if isinstance(v, str)}
            title = properties.get("Title")
            result = PdfPages(title or None, [], properties=properties)
            for number in range(len(document)):
                result.pages.append(_page(document[number], number + 1, options, result))
            result.pages = without_furniture(result.pages)
        except (pdfium.PdfiumError, ValueError, KeyError) as exc:
            raise PdfError(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
        finally:
            document.close()
    return result


def _page(page: Any, number: int, options: ReadOptions, result: PdfPages) -> str:
    started = time.perf_counter()
    text_page = page.get_textpage()
    try:
        # PDFium ends lines with CRLF; a PDF may hold NULs, which no store keeps.
        text = str(text_page.get_text_range()).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        result.seconds["text"] += time.perf_counter() - started
        if len(text.strip()) >= _SCAN_MAX_CHARS:
            if options.table_rows:
                started = time.perf_counter()
                rows, tables = table_text(text_page)
                result.seconds["tables"] += time.perf_counter() - started
                if rows is not None:
                    result.tables += tables
                    return rows.replace("\x00", "")
            return text
        if not _has_image(page):
            return text
        reason = None if options.ocr else "OCR is off (CITED_OCR=off); set CITED_OCR=auto to read scans"
        reason = reason or ocr.missing_reason(options.ocr_languages)
        if reason is not None:
            result.blank_pages.append(number)
            result.blank_reason = reason
            return text
        started = time.perf_counter()
        try:
            read = ocr.read_page(page, options.ocr_languages)
        except ocr.OcrUnavailableError as exc:
            result.blank_pages.append(number)
            result.blank_reason = str(exc)
            return text
        finally:
            result.seconds["ocr"] += time.perf_counter() - started
        result.ocr_pages.add(number)
        return read.replace("\x00", "")
    finally:
        text_page.close()
        page.close()


def without_furniture(pages: list[str]) -> list[str]:
    """The pages without what is not content: running headers and footers (a line among the first or
    last two of a quarter of the pages or more, digits aside, so "Page 3 of 15" counts), lone page numbers,
    and whole pages of boilerplate (a table of contents, a signature page). Each would be embedded
    once a page and retrieved for nothing."""
    edges = [_edge_lines(page) for page in pages]
    counts = Counter(shape for lines in edges for shape in {_shape(line) for line in lines})
    repeated = {shape for shape, n in counts.items() if n >= max(_MIN_REPEATS, len(pages) // 4)}
    kept = []
    for page, edge in zip(pages, edges, strict=True):
        if _boilerplate_page(page):
            kept.append("")
            continue
        drop = {line for line in edge if _shape(line) in repeated or _PAGE_NUMBER.match(line)}
        lines = page.split("\n")
        head = [i for i, line in enumerate(lines) if line.strip()][:2]
        tail = [i for i, line in enumerate(lines) if line.strip()][-2:]
        kept.append(
            "\n".join(line for i, line in enumerate(lines) if not (i in head + tail and line.strip() in drop))
        )
    return kept


_MIN_REPEATS = 4
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s+of\s+\d{1,4})?$|^-\s*\d{1,4}\s*-$", re.IGNORECASE)
_CONTENTS_LINE = re.compile(r"^(?:part\s+[ivx]+|item\s+\d+[a-z]?\.?)\b.*\s\d{1,3}$", re.IGNORECASE)


def _edge_lines(page: str) -> list[str]:
    lines = [line.strip() for line in page.split("\n") if line.strip()]
    return lines[:2] + lines[-2:] if len(lines) > 4 else lines


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", line.lower())


def _boilerplate_page(page: str) -> bool:
    """A table of contents (six or more "Item 7. … 41" lines) or a signature page."""
    lines = [line.strip() for line in page.split("\n") if line.strip()]
    if sum(bool(_CONTENTS_LINE.match(line)) for line in lines) >= 6:
        return True
    return "SIGNATURES" in page and page.count("/s/") >= 3


def _has_image(page: Any) -> bool:
    import pypdfium2.raw as pdfium_c

    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))
