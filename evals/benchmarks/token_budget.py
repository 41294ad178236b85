"""``cited bench tokens``: what the encoder is given to read, token by token, before it runs.

The encoder's time on a CPU is close to proportional to the tokens it reads (MiniLM-L6's linear
layers are about nine tenths of its arithmetic at 200 tokens), so where its time goes is where its
tokens go. Every document is read and chunked as the ingest does it (nothing is embedded), and each
chunk's tokens are split into: its own text, the text it repeats from the chunk before it (the
overlap), the document's title (embedded with every chunk), and the two special tokens; padding is
what the batches add, batched as the ingest batches them (groups of ``write_batch_chunks`` sorted by
length, ``embed_batch_size`` to a batch).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from cited.models.embedding import configured_embedder
from cited.settings import Settings
from evals.report_files import write_report
from ingest.document_chunks import DocumentChunker, read_options
from ingest.loading import DocumentSource, UnreadableFileError

_WINDOW = 256  # MiniLM reads at most this many tokens of a chunk


def budget(items: Iterable[DocumentSource], settings: Settings) -> dict[str, int]:
    embedder = configured_embedder(settings)
    chunker = DocumentChunker(settings, embedder.encode_plain)
    options = read_options(settings)
    counts = dict.fromkeys(("documents", "chunks", "text", "overlap", "title", "special", "padding"), 0)
    lengths: list[int] = []
    for item in items:
        try:
            chunks = chunker.chunk(item.load(options), ("everyone",))
        except UnreadableFileError:
            continue
        counts["documents"] += 1
        title = len(embedder.encode_plain(chunks[0].title).ids) + 1 if chunks else 0  # + the line break
        previous_end, previous_page = -1, None
        for chunk in chunks:
            own = len(embedder.encode_plain(chunk.text).ids)
            repeated = 0
            if chunk.page == previous_page and chunk.start < previous_end:
                repeated = len(embedder.encode_plain(chunk.text[: previous_end - chunk.start]).ids)
            length = min(own + title + 2, _WINDOW)
            counts["chunks"] += 1
            counts["overlap"] += repeated
            counts["title"] += title
            counts["special"] += 2
            counts["text"] += length - title - 2 - repeated
            lengths.append(length)
            previous_end, previous_page = chunk.end, chunk.page
    counts["padding"] = _padding(lengths, settings.write_batch_chunks, settings.embed_batch_size)
    return counts


def _padding(lengths: Sequence[int], group: int, batch: int) -> int:
    padded = 0
    for start in range(0, len(lengths), group):
        ordered = sorted(lengths[start : start + group])
        for first in range(0, len(ordered), batch):
            part = ordered[first : first + batch]
            padded += max(part) * len(part) - sum(part)
    return padded


def report(results: dict[str, dict[str, int]], reports: Path) -> None:
    lines = [
        "# What the encoder reads: tokens by kind",
        "",
        "Command: `cited bench tokens` (each collection read and chunked as the ingest does; nothing "
        "embedded). Shares of the tokens the encoder is given, padding included.",
        "",
        "| collection | documents | chunks | tokens given | own text | overlap | title | special | padding |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, c in results.items():
        total = c["text"] + c["overlap"] + c["title"] + c["special"] + c["padding"]
        share = {
            k: f"{c[k]:,} ({c[k] / total:.1%})" for k in ("text", "overlap", "title", "special", "padding")
        }
        lines.append(
            f"| {name} | {c['documents']:,} | {c['chunks']:,} | {total:,} | {share['text']} "
            f"| {share['overlap']} | {share['title']} | {share['special']} | {share['padding']} |"
        )
    write_report(reports, "ingest-tokens", {"collections": results}, lines)
