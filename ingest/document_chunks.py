"""The document pipeline: a loaded document's cleaned pages cut into the chunks it is stored as."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from cited.access.records import now
from cited.models.embedding import EMBEDDER_NAMES, MULTILINGUAL_MODEL_NAME
from cited.settings import Settings
from cited.store.chunks import Chunk, chunk_id
from cited.text.sentences import sentence_model
from cited.text.token_runs import TokenRun
from ingest.chunking import Chunker
from ingest.cleaning import RULES_VERSION, clean
from ingest.loading import LoadedDocument, UnreadableFileError
from ingest.pdf_pages import ReadOptions


def read_options(settings: Settings) -> ReadOptions:
    return ReadOptions(
        ocr=settings.ocr != "off", ocr_languages=settings.ocr_languages, table_rows=settings.table_rows
    )


# Bump when loading or chunking changes in a way that alters stored chunks.
# 4: tables as labelled rows, scanned pages read by OCR.
PIPELINE_VERSION = "4"  # 2: span vectors pooled at ingest; 3: PDFs read with PDFium


def pipeline_fingerprint(settings: Settings) -> str:
    """Changes whenever ingesting the same bytes again would give different chunks or vectors."""
    models = [EMBEDDER_NAMES[settings.embedder]] + (
        [MULTILINGUAL_MODEL_NAME] if settings.multilingual else []
    )
    key = "|".join(
        [
            PIPELINE_VERSION,
            RULES_VERSION,
            *models,
            str(settings.chunk_size),
            str(settings.chunk_overlap),
            *([] if settings.span_vectors else ["no-span-vectors"]),
            *([] if settings.table_rows else ["no-table-rows"]),
            "ocr-off" if settings.ocr == "off" else f"ocr-{settings.ocr_languages}",
        ]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:8]


class DocumentChunker:
    """Cleans and chunks documents for one pipeline (deterministic: the same bytes give the same
    chunks under the same ids)."""

    def __init__(self, settings: Settings, encode: Callable[[str], Any]) -> None:
        self.pipeline = pipeline_fingerprint(settings)
        self._encode = encode
        self._chunker = Chunker(encode, settings.chunk_size, settings.chunk_overlap)

    def load(self) -> None:
        """Load what chunking uses (LlamaIndex's splitter, the tokenizer, NLTK's Punkt model): seconds
        the first time in a process, nothing after."""
        self._chunker.load()
        sentence_model()

    def chunk(self, document: LoadedDocument, groups: tuple[str, ...]) -> list[Chunk]:
        """The chunks a document is stored as (deterministic: the same bytes give the same ones)."""
        pages = [clean(page).text for page in document.pages]
        if not any(page.strip() for page in pages):
            raise UnreadableFileError("nothing but page furniture was left after cleaning")
        spans = self._chunker.split_pages(pages)[1] if document.paged else self._chunker.split(pages[0])
        ingested_at = now()
        title = self._encode(document.title)
        title_tokens = TokenRun(title.ids, title.offsets)
        # A chunk's indexed text is its title, a line break, then its text (Chunk.indexed_text).
        after_title = len(document.title) + 1
        return [
            Chunk(
                id=chunk_id(document.document_id, self.pipeline, i),
                document_id=document.document_id,
                title=document.title,
                source=document.source,
                text=span.text,
                start=span.start,
                end=span.end,
                index=i,
                pipeline=self.pipeline,
                page=span.page if document.unit == "page" else None,
                slide=span.page if document.unit == "slide" else None,
                ocr=span.page in document.ocr_pages,
                groups=groups,
                sha256=document.sha256,
                ingested_at=ingested_at,
                document_date=document.document_date,
                date_source=document.date_source,
                indexed_tokens=span.tokens and title_tokens.followed_by(span.tokens, after_title),
                aliases=document.aliases if i == 0 else (),
            )
            for i, span in enumerate(spans)
        ]
