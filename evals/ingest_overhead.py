"""What pooling span vectors at ingest costs: the same files ingested with and without them,
alternating, in one run (``cited bench answers`` reports it; the issue's budget is +10%)."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from cited.models.embedding import configured_embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from ingest.loading import FileSource
from ingest.sync import Ingestor


def ingest_seconds(files: Sequence[Path], corpus: Path, settings: Settings) -> float:
    with tempfile.TemporaryDirectory(prefix="cited-overhead-") as folder:
        run_settings = settings.model_copy(update={"data_dir": Path(folder), "corpus_dir": corpus})
        embedder = configured_embedder(run_settings)
        started = time.perf_counter()
        report = Ingestor(run_settings, embedder, open_store(run_settings)).sync(
            [FileSource(f, corpus) for f in files]
        )
        seconds = time.perf_counter() - started
    if not report.ok:
        raise RuntimeError(f"ingest of {corpus} failed: {report.failed}")
    return seconds


def span_vector_overhead(
    files: Sequence[Path], corpus: Path, settings: Settings, runs: int
) -> dict[str, object]:
    """Median ingest seconds with and without span vectors, and the median of the paired ratios."""
    with_vectors, without = [], []
    for run in range(runs):
        order = (True, False) if run % 2 == 0 else (False, True)  # alternate who goes first
        for pooled in order:
            seconds = ingest_seconds(files, corpus, settings.model_copy(update={"span_vectors": pooled}))
            (with_vectors if pooled else without).append(seconds)
    return {
        "runs": runs,
        "with_span_vectors_s": round(statistics.median(with_vectors), 2),
        "without_s": round(statistics.median(without), 2),
        "median_ratio": round(
            statistics.median(a / b for a, b in zip(with_vectors, without, strict=True)), 3
        ),
    }
