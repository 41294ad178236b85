"""`cited bench writes`: what writing chunks to Chroma costs in each record layout, on real chunks.

Chunks and their vectors are read from a kept store (``cited bench ingest --keep``) and written in
groups of 1,024 (the ingest's ``CITED_WRITE_BATCH_CHUNKS``) into fresh embedded collections, one per
layout and round, the layouts in an order that rotates by round:

- **packed** (shipped): the filter keys and one JSON field holding everything else, the text too,
  and no Chroma document (``Chunk.metadata``);
- **text as document** (Cited before): the text as the record's Chroma document, which Chroma
  full-text indexes, and a metadata key per field.

Each layout's collection is read back after the last round and must give the same chunks, so the
comparison is between two ways of storing one thing. Only Chroma's write is timed.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cited.settings import Settings
from cited.store.chunk_store import open_store
from cited.store.chunks import Chunk, unpack
from evals.report_files import machine, machine_line, write_report

_GROUP = 1024  # chunks per write, as the ingest writes them


def _packed(chunks: list[Chunk]) -> dict[str, Any]:
    return {"metadatas": [c.metadata() for c in chunks]}


def _text_as_document(chunks: list[Chunk]) -> dict[str, Any]:
    return {
        "documents": [c.text for c in chunks],
        "metadatas": [unpack(None, c.metadata())[1] for c in chunks],
    }


LAYOUTS: dict[str, Callable[[list[Chunk]], dict[str, Any]]] = {
    "packed (shipped)": _packed,
    "text as document (before)": _text_as_document,
}


def measure(settings: Settings, reports: Path, chunks: int = 4096, rounds: int = 3) -> dict[str, object]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    store = open_store(settings)
    ids = sorted(i for i, _ in store.inventory())[:chunks]
    if not ids:
        raise ValueError(
            f"{settings.data_dir} holds no chunks: keep a store with `cited bench ingest --keep DIR`"
        )
    fetched = store.fetch(ids)
    sample = [fetched[i] for i in ids]
    vectors = store.vectors(ids)
    times: dict[str, list[float]] = {name: [] for name in LAYOUTS}
    read_back: dict[str, list[Chunk]] = {}
    with tempfile.TemporaryDirectory(prefix="cited-write-bench-") as root:
        for number in range(rounds):
            names = list(LAYOUTS)[number % len(LAYOUTS) :] + list(LAYOUTS)[: number % len(LAYOUTS)]
            for name in names:
                client = chromadb.PersistentClient(
                    path=f"{root}/{number}-{list(LAYOUTS).index(name)}",
                    settings=ChromaSettings(anonymized_telemetry=False),
                )
                collection = client.create_collection(
                    "chunks", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                )
                started = time.perf_counter()
                for lo in range(0, len(sample), _GROUP):
                    part = sample[lo : lo + _GROUP]
                    collection.add(
                        ids=[c.id for c in part], embeddings=vectors[lo : lo + _GROUP], **LAYOUTS[name](part)
                    )
                times[name].append(time.perf_counter() - started)
                got = collection.get(ids=ids, include=["documents", "metadatas"])
                read_back[name] = [
                    Chunk.from_record(i, d, dict(m or {}))
                    for i, d, m in zip(
                        got["ids"], got["documents"] or [None] * len(ids), got["metadatas"] or [], strict=True
                    )
                ]
    if any(sorted(chunks_read, key=lambda c: c.id) != sample for chunks_read in read_back.values()):
        raise RuntimeError("the two layouts read back different chunks")
    per_group = {name: statistics.median(t) / (len(sample) / _GROUP) for name, t in times.items()}
    packed, before = per_group["packed (shipped)"], per_group["text as document (before)"]
    result: dict[str, object] = {
        "command": "cited bench writes",
        "store": str(settings.data_dir),
        "chunks": len(sample),
        "rounds": rounds,
        "seconds": {name: [round(t, 3) for t in ts] for name, ts in times.items()},
        "median_s_per_1024_chunks": {name: round(s, 3) for name, s in per_group.items()},
        "packed_over_before": round(packed / before, 3),
        **machine(),
    }
    lines = [
        "# Writing chunks to Chroma, by record layout",
        "",
        f"`cited bench writes` on `{result['store']}`: {len(sample):,} of its chunks with their vectors, "
        f"written in groups of {_GROUP:,} into fresh embedded collections; {rounds} rounds, the layouts' "
        "order rotating; both read back the same chunks.",
        "",
        "| layout | median s per 1,024 chunks | each round, s (all chunks) |",
        "|---|---:|---|",
        *(
            f"| {name} | {per_group[name]:.3f} | {', '.join(f'{t:.2f}' for t in times[name])} |"
            for name in LAYOUTS
        ),
        "",
        f"Packed over before: {result['packed_over_before']}. The text as a Chroma document is full-text "
        "indexed, and each metadata key is indexed; Cited searches neither (BM25 is its own index).",
        "",
        machine_line(result),
    ]
    write_report(reports, "chunk-writes", result, lines)
    return result
