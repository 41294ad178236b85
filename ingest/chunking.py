"""Sentence-aware chunking with LlamaIndex's ``SentenceSplitter``, keeping character offsets.

Sizes are counted with the embedder's own tokenizer, so no chunk runs past the 256-token window
that all-MiniLM-L6-v2 silently truncates at: each document is tokenized once, and the splitter's
pieces are weighed from that pass (``ingest/piece_sizes.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cited.text.token_runs import TokenRun
from ingest.piece_sizes import PieceSizes

PAGE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Span:
    """A chunk's text and where it sits in the document text: ``text == document[start:end]``."""

    text: str
    start: int
    end: int
    page: int | None  # 1-based page, for paged documents
    # The text's tokens from the document's pass (``cited/text/token_runs.py``); None if cut mid-word.
    tokens: TokenRun | None = None


def join_pages(pages: Sequence[str]) -> tuple[str, list[int]]:
    """One document text from its pages, and the offset where each page starts."""
    starts: list[int] = []
    position = 0
    for page in pages:
        starts.append(position)
        position += len(page) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(pages), starts


class Chunker:
    def __init__(self, encode: Callable[[str], Any], chunk_size: int, chunk_overlap: int) -> None:
        """``encode`` tokenizes without special tokens, giving ``ids``, ``offsets`` and
        ``word_ids`` (a ``tokenizers.Encoding``)."""
        self._encode = encode
        self._size = chunk_size
        self._overlap = min(chunk_overlap, chunk_size // 2)
        self._sizes: PieceSizes | None = None  # the document being split
        self._splitting = threading.Lock()  # one splitter, weighing one document at a time

    @cached_property
    def _splitter(self) -> Any:
        # Made on the first split, not with the chunker: importing LlamaIndex takes about 2 s, and
        # every server builds an ingestor for uploads whether or not one ever comes.
        from llama_index.core.node_parser import SentenceSplitter

        return SentenceSplitter(
            chunk_size=self._size,
            chunk_overlap=self._overlap,
            tokenizer=self._weigh,
            paragraph_separator="\n\n",
        )

    def load(self) -> None:
        """Make the splitter, and load the tokenizer it weighs with."""
        self._splitter  # noqa: B018
        self._encode("")

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
        # ``split_text`` rather than LlamaIndex's node path: the same splits without building a
        # node per chunk (SciFact: 20% of chunking time). Each split is located from our own
        # cursor, so a chunk is never stored with offsets that point elsewhere.
        with self._splitting:
            sizes = self._sizes = PieceSizes(text, self._encode)
            try:
                pieces = self._splitter.split_text(text)
            finally:
                self._sizes = None
        spans: list[Span] = []
        cursor = 0
        for content in pieces:
            start = text.find(content, cursor)
            if start < 0:
                raise ValueError(f"chunk {len(spans)} could not be located in the document text")
            cursor = start + 1
            end = start + len(content)
            spans.append(Span(content, offset + start, offset + end, page, sizes.run(start, end)))
        return spans

    def _weigh(self, piece: str) -> Sized:
        if self._sizes is None:  # the splitter weighing something of its own (its metadata text)
            return self._encode(piece).ids
        return self._sizes(piece)
