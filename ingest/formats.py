"""The file types Cited reads: one list for discovery, uploads, the page and every message."""

from __future__ import annotations

# Each format's suffixes; the first is the one messages name.
FORMATS: dict[str, tuple[str, ...]] = {
    "text": (".txt", ".text"),
    "markdown": (".md", ".markdown"),
    "html": (".html", ".htm"),
    "pdf": (".pdf",),
    "docx": (".docx",),
    "pptx": (".pptx",),
}
TEXT_SUFFIXES = frozenset(FORMATS["text"])
MARKDOWN_SUFFIXES = frozenset(FORMATS["markdown"])
HTML_SUFFIXES = frozenset(FORMATS["html"])
SUPPORTED_SUFFIXES = frozenset(suffix for suffixes in FORMATS.values() for suffix in suffixes)
# ".txt .md .html .pdf .docx .pptx": what people are told Cited reads.
READABLE = " ".join(suffixes[0] for suffixes in FORMATS.values())
