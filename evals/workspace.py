"""A throwaway store built from a corpus folder by the real ingest, for measurements."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cited.models.embedding import configured_embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from ingest.sync import Ingestor


@contextmanager
def ingested(corpus: Path, **overrides: object) -> Iterator[Settings]:
    """Settings pointing at a temporary store that holds ``corpus``, ingested for real."""
    with tempfile.TemporaryDirectory(prefix="cited-eval-") as tmp:
        settings = Settings(data_dir=Path(tmp), corpus_dir=corpus, **overrides)  # type: ignore[arg-type]
        report = Ingestor(settings, configured_embedder(settings), open_store(settings)).run(corpus)
        if not report.ok:
            raise RuntimeError(f"ingest of {corpus} failed: {report.failed}")
        yield settings
