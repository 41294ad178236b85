"""`cited bench documents`: what listing the documents costs at full size, read from the document
index against a scan of every chunk's metadata (how Cited listed them before the index).

This is the uncached path: ``GET /documents`` and each upload reply pay it once after every
published change (``ChunkStore.documents`` keeps the list per state record). The two reads
alternate round by round over the same kept store (``cited bench ingest --keep``), and must give
the same list.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from filelock import FileLock

from cited.settings import Settings
from cited.store.chunk_store import list_documents, open_store
from evals.report_files import machine, machine_line, write_report


def measure(settings: Settings, reports: Path, rounds: int = 7) -> dict[str, object]:
    store = open_store(settings)
    if store.count() == 0:
        raise ValueError(
            f"{settings.data_dir} holds no chunks: keep a store with `cited bench ingest --keep DIR`"
        )
    filled = not store.document_index.complete()
    if filled:  # a store kept by an older Cited: fill its index as its next ingest would
        with FileLock(settings.data_dir / "ingest.lock"):
            store.fill_document_index()
    state = store.state()
    reads = {
        "document index": lambda: list_documents(store.document_index.entries(), state),
        "scan of every chunk": lambda: list_documents(store.scan_documents(), state),
    }
    times: dict[str, list[float]] = {name: [] for name in reads}
    listings = {}
    for number in range(rounds):
        names = list(reads) if number % 2 == 0 else list(reads)[::-1]
        for name in names:
            started = time.perf_counter()
            listings[name] = reads[name]()
            times[name].append((time.perf_counter() - started) * 1000)
    if listings["document index"] != listings["scan of every chunk"]:
        raise RuntimeError("the document index and the chunks list different documents")
    store.documents()  # reads the list once; the calls timed next find it kept
    started = time.perf_counter()
    for _ in range(5):
        store.documents()
    cached = (time.perf_counter() - started) * 1000 / 5
    index_ms = statistics.median(times["document index"])
    scan_ms = statistics.median(times["scan of every chunk"])
    result: dict[str, object] = {
        "command": "cited bench documents",
        "store": str(settings.data_dir if settings.chroma_host is None else settings.chroma_host),
        "documents": len(listings["document index"]),
        "chunks": store.count(),
        "rounds": rounds,
        "index_filled_by_this_run": filled,
        "median_ms": {"document index": round(index_ms, 1), "scan of every chunk": round(scan_ms, 1)},
        "scan_over_index": round(scan_ms / index_ms, 1),
        "cached_call_ms": round(cached, 2),
        **machine(),
    }
    lines = [
        "# Listing the documents at full size",
        "",
        f"`cited bench documents` on `{result['store']}`: {result['documents']:,} documents, "
        f"{result['chunks']:,} chunks; {rounds} rounds, the two reads alternating; the same list from both.",
        "",
        "| read | median ms |",
        "|---|---:|",
        f"| document index (shipped) | {index_ms:.1f} |",
        f"| scan of every chunk's metadata (before) | {scan_ms:.1f} |",
        "",
        f"The scan takes {result['scan_over_index']}x as long. This is what `GET /documents` and an upload "
        "reply pay once after each published change; until the next one, the list is kept "
        f"({cached:.2f} ms a call).",
        "",
        machine_line(result),
    ]
    write_report(reports, "document-list", result, lines)
    return result
