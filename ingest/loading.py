"""Finding documents under a corpus root and reading each one into plain text.

Each format goes through a well-kept parser: PDFium through pypdfium2 (PDF, with Tesseract for scanned
pages: ``ingest/pdf_pages.py``), python-docx (DOCX), python-pptx (PPTX: ``ingest/slides.py``),
BeautifulSoup (HTML), charset-normalizer (text of unknown encoding). Tables become labelled rows
(``ingest/table_rows.py``). A file that cannot be read raises :class:`UnreadableFileError` with a
reason a person can act on.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from ingest.access import ACCESS_FILE
from ingest.dating import document_date, pdf_date
from ingest.formats import HTML_SUFFIXES, MARKDOWN_SUFFIXES, SUPPORTED_SUFFIXES, TEXT_SUFFIXES
from ingest.pdf_pages import PdfError, ReadOptions, read_pdf
from ingest.slides import DeckError, office_properties, read_deck
from ingest.table_rows import grid_rows

_TITLE_MAX_CHARS = 150


class UnreadableFileError(Exception):
    """A file Cited cannot turn into text; the message says why."""


class ScansOnlyError(UnreadableFileError):
    """A PDF whose every page with content is a scan that was not read (OCR off or missing)."""


@dataclass(frozen=True)
class LoadedDocument:
    """A document as read from disk, before cleaning.

    ``pages`` holds one string per PDF page or slide, or a single string for every other format.
    """

    source: str  # path relative to the corpus root, with forward slashes
    document_id: str  # content hash of the file's bytes (the first 16 hex digits of sha256)
    title: str
    pages: list[str]
    paged: bool  # True for PDFs and decks: each chunk's page (or slide) is recorded
    sha256: str = ""
    # When it is from, as ISO 8601, and where that was read: "text", "properties" or "file"
    # (``ingest/dating.py``); empty when nothing says.
    document_date: str = ""
    date_source: str = ""
    unit: Literal["page", "slide"] = "page"  # what a number in ``pages`` is
    ocr_pages: frozenset[int] = frozenset()  # 1-based pages whose text Tesseract read
    # Scanned pages left unread (OCR off or missing), and what to do about it: the ingest lists them.
    blank_pages: tuple[int, ...] = ()
    blank_reason: str = ""
    # Seconds spent reading: "text" (text layers, every other format), "tables", "ocr".
    read_seconds: dict[str, float] = field(default_factory=dict, compare=False)
    # Other names it goes by: its properties' subject and keywords, its opening line when that is
    # not its title (``service/answering/named_documents.py`` matches questions against them).
    aliases: tuple[str, ...] = ()


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

    def load(self, options: ReadOptions | None = None) -> LoadedDocument:
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

    def load(self, options: ReadOptions | None = None) -> LoadedDocument:
        return load(self.path, self.root, options)


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


@dataclass
class _Read:
    """What a format's reader found (see :class:`LoadedDocument`)."""

    title: str | None
    pages: list[str]
    unit: Literal["page", "slide"] | None = None  # None: one text, not paged
    ocr_pages: frozenset[int] = frozenset()
    blank_pages: tuple[int, ...] = ()
    blank_reason: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    created: str | None = None  # the date its properties give (ISO 8601), read with the text
    names: tuple[str, ...] = ()  # the subject and keywords its properties give


def load(path: Path, root: Path, options: ReadOptions | None = None) -> LoadedDocument:
    """Read one file. Raises :class:`UnreadableFileError` when it cannot be read."""
    options = options or ReadOptions()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(f"cannot open the file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise UnreadableFileError("the file is empty (0 bytes, or only blank space)")
    kind = _kind(path)
    started = time.perf_counter()
    read = _READERS[kind](data, options)
    if not read.seconds:
        read.seconds = {"text": time.perf_counter() - started}
    if not any(page.strip() for page in read.pages):
        if read.blank_pages:
            raise ScansOnlyError(f"no text: {scans_unread(read.blank_pages, read.blank_reason)}")
        raise UnreadableFileError(
            "no text could be extracted: its pages have no text layer and no scanned image for OCR to read"
            if kind == "pdf"
            else "no text could be extracted"
        )
    try:
        modified_s: float | None = path.stat().st_mtime
    except OSError:
        modified_s = None
    date, date_source = document_date(read.pages[0], read.created, modified_s)
    title = _title(read, path)
    return LoadedDocument(
        source=path.relative_to(root).as_posix(),
        document_id=document_id(data),
        title=title,
        pages=read.pages,
        paged=read.unit is not None,
        sha256=sha256_of(data),
        document_date=date or "",
        date_source=date_source or "",
        unit=read.unit or "page",
        ocr_pages=read.ocr_pages,
        blank_pages=read.blank_pages,
        blank_reason=read.blank_reason,
        read_seconds=read.seconds,
        aliases=_aliases(read, title),
    )


def scans_unread(pages: Sequence[int], reason: str) -> str:
    """``pages 2, 5 are scanned images with no text layer, and <reason>``: what the ingest reports."""
    more = f" and {len(pages) - 10} more" if len(pages) > 10 else ""
    shown = ", ".join(str(p) for p in pages[:10]) + more
    if len(pages) == 1:
        return f"page {shown} is a scanned image with no text layer, and {reason}"
    return f"pages {shown} are scanned images with no text layer, and {reason}"


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


def _read_text(data: bytes, options: ReadOptions) -> _Read:
    return _Read(None, [_decode(data)])


def _read_markdown(data: bytes, options: ReadOptions) -> _Read:
    text = _decode(data)
    heading = re.search(r"^#\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
    return _Read(heading.group(1).strip() if heading else None, [text])


# Elements that are never content: code, styling, and page chrome.
_HTML_DROP = ["script", "style", "noscript", "template", "svg", "iframe", "nav", "footer", "aside", "form"]
_HTML_BLOCKS = [
    "address", "article", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "ol", "p", "pre", "section", "table", "td",
    "th", "tr", "ul",
]  # fmt: skip


def _read_html(data: bytes, options: ReadOptions) -> _Read:
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
    return _Read(title or None, ["\n".join(lines)])


def _read_pdf(data: bytes, options: ReadOptions) -> _Read:
    try:
        read = read_pdf(data, options)
    except PdfError as exc:
        raise UnreadableFileError(str(exc)) from exc
    return _Read(
        read.title,
        read.pages,
        "page",
        frozenset(read.ocr_pages),
        tuple(read.blank_pages),
        read.blank_reason,
        read.seconds,
        pdf_date(read.properties.get("CreationDate")),
        tuple(read.properties[k] for k in ("Subject", "Keywords") if read.properties.get(k)),
    )


def _read_pptx(data: bytes, options: ReadOptions) -> _Read:
    try:
        deck = read_deck(data)
    except DeckError as exc:
        raise UnreadableFileError(str(exc)) from exc
    return _Read(deck.title, deck.slides, "slide", created=deck.created, names=deck.names)


def _read_docx(data: bytes, options: ReadOptions) -> _Read:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE2: an encrypted Office file, or a .doc
        raise UnreadableFileError(
            "the document is password-protected (or an old .doc saved as .docx); save a copy "
            "without a password as .docx"
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableFileError(f"not a readable DOCX ({type(exc).__name__}: {exc})") from exc
    # Body order, so a table stays between the paragraphs around it; its rows keep their labels,
    # and the paragraph before it is its caption.
    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            grid = [[cell.text for cell in row.cells] for row in item.rows]
            if options.table_rows:
                blocks.extend(grid_rows(grid, next((b for b in reversed(blocks) if b.strip()), "")))
            else:
                blocks.extend(" | ".join(cell.strip() for cell in row) for row in grid)
        else:
            blocks.append(item.text)
    title = document.core_properties.title or next(
        (p.text for p in document.paragraphs if p.style is not None and p.style.name == "Title"), None
    )
    created, names = office_properties(document.core_properties)
    return _Read(
        title.strip() if title and title.strip() else None, ["\n".join(blocks)], created=created, names=names
    )


_READERS: dict[str, Callable[[bytes, ReadOptions], _Read]] = {
    "text": _read_text,
    "markdown": _read_markdown,
    "html": _read_html,
    "pdf": _read_pdf,
    "docx": _read_docx,
    "pptx": _read_pptx,
}


def _aliases(read: _Read, title: str) -> tuple[str, ...]:
    names = list(read.names)
    opening = _title_from_text(read.pages[0])
    if opening and not _BOILERPLATE.match(opening.strip()):
        names.append(opening)
    kept: list[str] = []
    for name in names:
        for part in re.split(r"[;,\n]", name):
            part = " ".join(part.split())
            if part and part != title and part not in kept and len(part) <= _TITLE_MAX_CHARS:
                kept.append(part)
    return tuple(kept[:_MAX_ALIASES])


_MAX_ALIASES = 12


def _title(read: _Read, path: Path) -> str:
    """The reader's title when it names something, else the first line where it reads like a
    heading, else the file name. A PDF's Title property is often a filing number
    ("0000764478-23-000006") or the form's letterhead, and its first line a running header."""
    for title in (read.title, _title_from_text(read.pages[0])):
        if title and re.search(r"[^\W\d_]", title) and not _BOILERPLATE.match(title.strip()):
            return title
    return _title_from_name(path)


# Letterheads and running headers that open many documents and name none of them.
_BOILERPLATE = re.compile(
    r"^(?:table of contents|contents|united states(?: securities and exchange commission)?|page \d+.*|"
    r"confidential|draft|untitled|microsoft word.*|powerpoint presentation)$",
    re.IGNORECASE,
)


def _title_from_text(text: str) -> str | None:
    """A first line that reads like a heading: short, with no sentence-ending punctuation."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = first.lstrip("#").strip()
    if 0 < len(first) <= _TITLE_MAX_CHARS and not first.endswith((".", "!", "?", ":", ";", ",")):
        return first
    return None


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip() or path.name
