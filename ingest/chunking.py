"""Sentence-aware chunking with LlamaIndex's ``SentenceSplitter``, keeping character offsets.

Sizes are counted with the embedder's own tokenizer, so no chunk runs past the 256-token window
that all-MiniLM-L6-v2 silently truncates at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

PAGE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Span:
    """A chunk's text and where it sits in the document text: ``text == document[start:end]``."""

    text: str
    start: int
    end: int
    page: int | None  # 1-based page, for paged documents


def join_pages(pages: Sequence[str]) -> tuple[str, list[int]]:
    """One document text from its pages, and the offset where each page starts."""
    starts: list[int] = []
    position = 0
    for page in pages:
        starts.append(position)
        position += len(page) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(pages), starts


class Chunker:
    def __init__(self, tokenize: Callable[[str], list[int]], chunk_size: int, chunk_overlap: int) -> None:
        self._tokenize = tokenize
        self._size = chunk_size
        self._overlap = min(chunk_overlap, chunk_size // 2)

    @cached_property
    def _splitter(self) -> Any:
        # Made on the first split, not with the chunker: importing LlamaIndex takes about 2 s, and
        # every server builds an ingestor for uploads whether or not one ever comes.
        from llama_index.core.node_parser import SentenceSplitter

        return SentenceSplitter(
            chunk_size=self._size,
            chunk_overlap=self._overlap,
            tokenizer=self._tokenize,
            paragraph_separator="\n\n",
        )

    def split(self, text: str) -> list[Span]:
        """Chunks of one unpaged text."""
        return self._split(text, offset=0, page=None)

    def split_pages(self, pages: Sequence[str]) -> tuple[str, list[Span]]:
        """The document text of a paged document and its chunks, each within a single page.

        Pages are chunked one at a time so a chunk's page is exact, never a guess at a boundary.
        """
        text, starts = join_pages(pages)
        spans = [
            span
            for number, (page, start) in enumerate(zip(pages, starts, strict=True), start=1)
            if page.strip()
            for span in self._split(page, offset=start, page=number)
        ]
        return text, spans

    def _split(self, text: str, offset: int, page: int | None) -> list[Span]:
        from llama_index.core import Document

        nodes = self._splitter.get_nodes_from_documents([Document(text=text)])
        spans: list[Span] = []
        cursor = 0
        for node in nodes:
            content = node.get_content()
            start = node.start_char_idx
            if start is None or text[start : start + len(content)] != content:
                # LlamaIndex locates nodes by searching the text; do the same from our own cursor so
                # a chunk is never stored with offsets that point elsewhere.
                start = text.find(content, cursor)
                if start < 0:
                    raise ValueError(f"chunk {len(spans)} could not be located in the document text")
            cursor = start + 1
            spans.append(Span(content, offset + start, offset + start + len(content), page))
        return spans
