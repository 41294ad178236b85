"""Finding documents under a corpus root and reading each one into plain text.

Each format goes through a well-kept parser: PDFium through pypdfium2 (PDF), python-docx (DOCX),
BeautifulSoup (HTML), charset-normalizer (text of unknown encoding). A file that cannot be read raises
:class:`UnreadableFileError` with a reason a person can act on.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ingest.access import ACCESS_FILE
from ingest.dating import document_date, pdf_date
from ingest.formats import HTML_SUFFIXES, MARKDOWN_SUFFIXES, SUPPORTED_SUFFIXES, TEXT_SUFFIXES

_TITLE_MAX_CHARS = 150


class UnreadableFileError(Exception):
    """A file Cited cannot turn into text; the message says why."""


@dataclass(frozen=True)
class LoadedDocument:
    """A document as read from disk, before cleaning.

    ``pages`` holds one string per PDF page, or a single string for every other format.
    """

    source: str  # path relative to the corpus root, with forward slashes
    document_id: str  # content hash of the file's bytes (the first 16 hex digits of sha256)
    title: str
    pages: list[str]
    paged: bool  # True for PDFs: chunk pages are recorded
    sha256: str = ""
    # When it is from, as ISO 8601, and where that was read: "text", "properties" or "file"
    # (``ingest/dating.py``); empty when nothing says.
    document_date: str = ""
    date_source: str = ""


class DocumentSource(Protocol):
    """Something the ingest can index: a file, or a record of a benchmark collection."""

    @property
    def source(self) -> str: ...

    def read(self) -> bytes:
        """The raw content, hashed to recognise an unchanged document. May raise OSError."""
        ...

    def stat(self) -> tuple[int, int] | None:
        """(size, modification time in ns) when the source has them: an unchanged pair lets the
        ingest skip reading it. None: always read. May raise OSError."""
        ...

    def load(self) -> LoadedDocument:
        """The document as text. Raises :class:`UnreadableFileError`."""
        ...


@dataclass(frozen=True)
class FileSource:
    path: Path
    root: Path

    @property
    def source(self) -> str:
        return self.path.relative_to(self.root).as_posix()

    def read(self) -> bytes:
        return self.path.read_bytes()

    def stat(self) -> tuple[int, int] | None:
        info = self.path.stat()
        return info.st_size, info.st_mtime_ns

    def load(self) -> LoadedDocument:
        return load(self.path, self.root)


def discover(root: Path) -> tuple[list[Path], list[Path]]:
    """Supported and unsupported files under ``root``, recursively, in a stable order.

    Hidden files and folders (``.git``, ``.DS_Store``) are ignored, and so is the access
    declaration (``access.yaml``) in the root, which is read by ``ingest/access.py``.
    """
    supported: list[Path] = []
    unsupported: list[Path] = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if relative.as_posix() == ACCESS_FILE:
            continue
        (supported if path.suffix.lower() in SUPPORTED_SUFFIXES else unsupported).append(path)
    return supported, unsupported


def document_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load(path: Path, root: Path) -> LoadedDocument:
    """Read one file. Raises :class:`UnreadableFileError` when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(f"cannot open the file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise UnreadableFileError("the file is empty")
    kind = _kind(path)
    title, pages = _READERS[kind](data)
    if not any(page.strip() for page in pages):
        raise UnreadableFileError(
            "no text could be extracted (a scanned PDF or an image needs OCR first)"
            if path.suffix.lower() == ".pdf"
            else "no text could be extracted"
        )
    properties = _PROPERTY_DATES[kind](data) if kind in _PROPERTY_DATES else None
    try:
        modified_s: float | None = path.stat().st_mtime
    except OSError:
        modified_s = None
    date, date_source = document_date(pages[0], properties, modified_s)
    return LoadedDocument(
        source=path.relative_to(root).as_posix(),
        document_id=document_id(data),
        title=title or _title_from_text(pages[0]) or _title_from_name(path),
        pages=pages,
        paged=path.suffix.lower() == ".pdf",
        sha256=sha256_of(data),
        document_date=date or "",
        date_source=date_source or "",
    )


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if suffix in HTML_SUFFIXES:
        return "html"
    return suffix.lstrip(".")


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise UnreadableFileError("the file is binary, not text (is the extension right?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnreadableFileError("the text encoding could not be recognised; save it as UTF-8")
    return str(best)


def _read_text(data: bytes) -> tuple[str | None, list[str]]:
    return None, [_decode(data)]


def _read_markdown(data: bytes) -> tuple[str | None, list[str]]:
    text = _decode(data)
    heading = re.search(r"^#\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
    return (heading.group(1).strip() if heading else None), [text]


# Elements that are never content: code, styling, and page chrome.
_HTML_DROP = ["script", "style", "noscript", "template", "svg", "iframe", "nav", "footer", "aside", "form"]
_HTML_BLOCKS = [
    "address", "article", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "ol", "p", "pre", "section", "table", "td",
    "th", "tr", "ul",
]  # fmt: skip


def _read_html(data: bytes) -> tuple[str | None, list[str]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    title_tag = soup.find("title") or soup.find("h1")
    title = title_tag.get_text(" ", strip=True) if title_tag else None
    for tag in soup.find_all(_HTML_DROP):
        tag.decompose()
    if soup.head:
        soup.head.decompose()
    # Block elements become line breaks so sentences from separate paragraphs never run together,
    # while inline elements (<b>, <a>) stay inside their sentence.
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    return title or None, ["\n".join(lines)]


def _read_pdf(data: bytes) -> tuple[str | None, list[str]]:
    """Each page's text layer through PDFium (pypdfium2, Apache-2.0/BSD), Chrome's PDF engine.

    Measured against pypdf 7.1, which Cited used before, on generated PDFs (``cited bench pdf``,
    ``reports/pdf-extraction.md``): 0.40 against 3.64 ms a page with a table on each page (every
    row on one line from both, "Region 0 100 m 110 m +3%"), 1.26 against 21.17 ms a page of dense
    8-point text. pdfminer.six, tried once outside the bench, split table rows into columns and took
    27.9 ms a page.
    """
    import pypdfium2 as pdfium

    with _PDFIUM:  # PDFium is not thread-safe: one document at a time in a process
        try:
            document = pdfium.PdfDocument(data)  # no password: owner-only PDFs open, as in any viewer
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == _PDFIUM_PASSWORD_ERROR:
                raise UnreadableFileError(
                    "the PDF needs a password to open; save a copy without one (or ask its owner for one)"
                ) from None
            raise UnreadableFileError(f"not a readable PDF ({exc})") from exc
        try:
            pages = [_page_text(document[number]) for number in range(len(document))]
            title = document.get_metadata_dict().get("Title")
        except (pdfium.PdfiumError, ValueError, KeyError) as exc:
            raise UnreadableFileError(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
        finally:
            document.close()
    return (title.strip() if isinstance(title, str) and title.strip() else None), pages


def _page_text(page: Any) -> str:
    text_page = page.get_textpage()
    try:
        # PDFium ends lines with CRLF; a PDF may hold NULs, which no store keeps.
        return str(text_page.get_text_range()).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    finally:
        text_page.close()
        page.close()


_PDFIUM = threading.Lock()
_PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD


def _read_docx(data: bytes) -> tuple[str | None, list[str]]:
    import io
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableFileError(f"not a readable DOCX ({type(exc).__name__}: {exc})") from exc
    # Body order, so a table's text stays between the paragraphs around it.
    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.extend(" | ".join(cell.text.strip() for cell in row.cells) for row in item.rows)
        else:
            blocks.append(item.text)
    title = document.core_properties.title or next(
        (p.text for p in document.paragraphs if p.style is not None and p.style.name == "Title"), None
    )
    return (title.strip() if title and title.strip() else None), ["\n".join(blocks)]


_READERS: dict[str, Callable[[bytes], tuple[str | None, list[str]]]] = {
    "text": _read_text,
    "markdown": _read_markdown,
    "html": _read_html,
    "pdf": _read_pdf,
    "docx": _read_docx,
}


def _pdf_properties_date(data: bytes) -> str | None:
    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return None  # the reader has already said why it cannot open it
        try:
            return pdf_date(document.get_metadata_dict().get("CreationDate"))
        except (pdfium.PdfiumError, ValueError, KeyError):
            return None
        finally:
            document.close()


def _docx_properties_date(data: bytes) -> str | None:
    import io

    import docx

    properties = docx.Document(io.BytesIO(data)).core_properties
    made = properties.created or properties.modified
    return made.date().isoformat() if made else None


_PROPERTY_DATES: dict[str, Callable[[bytes], str | None]] = {
    "pdf": _pdf_properties_date,
    "docx": _docx_properties_date,
}


def _title_from_text(text: str) -> str | None:
    """A first line that reads like a heading: short, with no sentence-ending punctuation."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = first.lstrip("#").strip()
    if 0 < len(first) <= _TITLE_MAX_CHARS and not first.endswith((".", "!", "?", ":", ";", ",")):
        return first
    return None


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip() or path.name
