"""SIGKILL a real `cited ingest` process at each step of a publish, then run it again: the store
must end exactly as a clean run leaves it (no duplicate, orphan or missing chunk), and at the
moment of the kill readers must see every document whole, in its old or its new version.

The kill is the real signal, sent by the process to itself at a named step (cited/operations/crashpoints.py),
so each step is hit on purpose rather than by luck; one case also kills from outside at a moment
chosen only by the ingest's own progress.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cited.models.embedding import Embedder
from cited.settings import Settings
from cited.store.chunk_store import ChunkStore, open_store
from cited.store.chunks import version_of
from cited.store.lexical import open_lexical
from ingest.manifest import Manifest
from ingest.sync import Ingestor
from tests.conftest import ROOT
from tests.forked_cli import ForkedCommand

pytestmark = pytest.mark.processes

# Small chunks and small publish groups, so a few documents make many groups and every step is
# reached more than once.
SMALL = {"chunk_size": 32, "chunk_overlap": 0, "write_batch_chunks": 6}

WORDS = (
    "revenue",
    "cloud",
    "logistics",
    "margin",
    "customers",
    "merchants",
    "payments",
    "retail",
    "growth",
    "strategy",
    "board",
    "quarter",
    "hiring",
    "offices",
    "warehouses",
    "delivery",
    "supply",
    "partners",
    "investment",
    "research",
)


def paragraph(seed: int, sentences: int = 9) -> str:
    out = []
    for s in range(sentences):
        words = [WORDS[(seed * 7 + s * 3 + i * 5) % len(WORDS)] for i in range(11)]
        out.append(f"Memo {seed} line {s} says the {' '.join(words)}.")
    return "\n".join(out) + "\n"


def write_version_a(corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    for n in range(6):
        (corpus / f"memo-{n}.txt").write_text(paragraph(n), encoding="utf-8")


def change_to_version_b(corpus: Path) -> None:
    """Every kind of change at once: two edits, a removal, two additions and a rename."""
    (corpus / "memo-1.txt").write_text(paragraph(101), encoding="utf-8")
    (corpus / "memo-3.txt").write_text(paragraph(103, sentences=12), encoding="utf-8")
    (corpus / "memo-4.txt").unlink()
    (corpus / "memo-5.txt").rename(corpus / "renamed-5.txt")
    for n in (6, 7):
        (corpus / f"memo-{n}.txt").write_text(paragraph(n), encoding="utf-8")


def reopen(settings: Settings) -> ChunkStore:
    """The store as a new process sees it: the embedded client caches its vector index per
    process, and another process wrote it since."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    return open_store(settings)


def snapshot(store: ChunkStore, settings: Settings) -> dict[str, object]:
    """Everything a clean run determines (not the times it ran at)."""
    chunks = {
        chunk_id: (text, {k: v for k, v in meta.items() if k != "ingested_at"})
        for chunk_id, text, meta in store.texts()
    }
    lexical = open_lexical(settings)
    assert lexical.load(), "no BM25 index"
    manifest = Manifest(settings.manifest_path)
    documents = {
        doc_id: (r.source, r.sha256, r.pipeline, r.groups, r.chunk_ids)
        for doc_id, r in manifest.documents().items()
    }
    return {
        "chunks": chunks,
        # A version's record goes with its chunks: none left of a version deleted, none missing.
        "document_index": sorted(
            (e.version, e.source, e.title, e.chunks, e.groups) for e in store.document_index.entries()
        ),
        "document_index_complete": store.document_index.complete(),
        "e5": store.multilingual_count(),
        "hidden": store.state().hidden,
        "bm25": sorted(lexical._ids),
        "manifest": documents,
        "manifest_generation_matches": manifest.generation() == store.state().generation,
    }


def visible_versions(store: ChunkStore) -> dict[str, list[str]]:
    """source -> chunk ids of what a reader sees now, by version."""
    state = store.state()
    seen: dict[str, dict[str, list[str]]] = {}
    for chunk_id, meta in store.inventory():
        if state.visible(chunk_id):
            seen.setdefault(str(meta["source"]), {}).setdefault(version_of(chunk_id), []).append(chunk_id)
    for source, versions in seen.items():
        assert len(versions) == 1, f"{source} is visible in two versions at once: {sorted(versions)}"
    return {source: sorted(next(iter(v.values()))) for source, v in seen.items()}


def ingest_process(settings: Settings, corpus: Path, crash_at: str | None) -> ForkedCommand:
    """A real `cited ingest` process, forked from one that has the libraries imported
    (``tests/forked_cli.py``): seven started at once from scratch spent most of their time importing."""
    env = {**os.environ, **{f"CITED_{k.upper()}": str(v) for k, v in SMALL.items()}}
    env.pop("CITED_CRASH_AT", None)
    if crash_at:
        env["CITED_CRASH_AT"] = crash_at
    args = ["ingest", str(corpus), "--data-dir", str(settings.data_dir), "--no-progress"]
    return ForkedCommand(args, env, ROOT, settings.data_dir.parent / "ingest.log")


@pytest.fixture
def clean_b(
    tmp_path: Path, embedder: Embedder
) -> tuple[dict[str, object], dict[str, list[str]], dict[str, list[str]]]:
    """A clean run's store of version B, and what readers see of A and of B (by source)."""
    corpus = tmp_path / "reference-corpus"
    write_version_a(corpus)
    settings = Settings(data_dir=tmp_path / "reference", **SMALL)  # type: ignore[arg-type]
    ingestor = Ingestor(settings, embedder, open_store(settings))
    ingestor.run(corpus)
    seen_a = visible_versions(ingestor.store)
    change_to_version_b(corpus)
    ingestor.run(corpus)
    return snapshot(ingestor.store, settings), seen_a, visible_versions(ingestor.store)


def at_a(folder: Path, embedder: Embedder) -> tuple[Settings, Path]:
    """A store of version A, and its corpus changed to version B (not ingested yet)."""
    corpus = folder / "corpus"
    write_version_a(corpus)
    settings = Settings(data_dir=folder / "data", **SMALL)  # type: ignore[arg-type]
    Ingestor(settings, embedder, open_store(settings)).run(corpus)
    change_to_version_b(corpus)
    return settings, corpus


@pytest.fixture
def store_at_a(tmp_path: Path, embedder: Embedder) -> Callable[[str], tuple[Settings, Path]]:
    return lambda name: at_a(tmp_path / name, embedder)


KILL_POINTS = ["hidden:1", "written:2", "committed:1", "published:2", "removal-published:1", "lexical:1"]
FIRST_INGEST = "first ingest"


@pytest.fixture(scope="module")
def kills(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> dict[str, tuple[Settings, Path, ForkedCommand]]:
    """Every kill this module waits for, started at once: each kill point's ingest of A -> B, and a
    first ingest killed midway, each a real `cited ingest` on a store of its own. Side by side they
    take about half as long as one after another on 2 cores."""
    # Every store is ready before the first process starts, so none competes with the set-up.
    stores = {point: at_a(tmp_path_factory.mktemp(point.split(":")[0]), embedder) for point in KILL_POINTS}
    first = tmp_path_factory.mktemp("first")
    write_version_a(first / "corpus")
    stores[FIRST_INGEST] = (Settings(data_dir=first / "data", **SMALL), first / "corpus")  # type: ignore[arg-type]
    return {
        name: (
            settings,
            corpus,
            ingest_process(settings, corpus, "written:2" if name == FIRST_INGEST else name),
        )
        for name, (settings, corpus) in stores.items()
    }


def test_a_kill_at_every_step_recovers_to_the_clean_store(
    kills: dict[str, tuple[Settings, Path, ForkedCommand]],
    clean_b: tuple[dict[str, object], dict[str, list[str]], dict[str, list[str]]],
    embedder: Embedder,
) -> None:
    reference, seen_a, seen_b = clean_b
    assert reference["hidden"] == frozenset() and reference["manifest_generation_matches"]
    for point in KILL_POINTS:
        settings, corpus, process = kills[point]
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == -signal.SIGKILL, f"{point}: not killed ({process.returncode}): {stderr}"

        # At the kill, every document a reader sees is whole: all the chunks of its A or its B version.
        store = reopen(settings)
        for source, chunk_ids in visible_versions(store).items():
            assert chunk_ids in (seen_a.get(source), seen_b.get(source)), f"{point}: {source} is half-written"

        report = Ingestor(settings, embedder, store).run(corpus)
        assert report.ok, point
        assert snapshot(reopen(settings), settings) == reference, f"after a kill at {point}"


def test_a_kill_from_outside_mid_ingest_recovers(
    store_at_a: Callable[[str], tuple[Settings, Path]],
    clean_b: tuple[dict[str, object], dict[str, list[str]], dict[str, list[str]]],
    embedder: Embedder,
) -> None:
    """The kill comes from another process, as soon as the ingest has published something."""
    reference = clean_b[0]
    settings, corpus = store_at_a("outside")
    start = (
        sqlite3.connect(settings.manifest_path)
        .execute("SELECT value FROM meta WHERE key = 'generation'")
        .fetchone()[0]
    )
    process = ingest_process(settings, corpus, None)
    deadline = time.monotonic() + 240
    while process.poll() is None and time.monotonic() < deadline:
        now = (
            sqlite3.connect(settings.manifest_path)
            .execute("SELECT value FROM meta WHERE key = 'generation'")
            .fetchone()[0]
        )
        if int(now) > int(start):
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    store = reopen(settings)
    Ingestor(settings, embedder, store).run(corpus)
    assert snapshot(reopen(settings), settings) == reference


def test_a_first_ingest_killed_midway_leaves_no_orphans(
    kills: dict[str, tuple[Settings, Path, ForkedCommand]], embedder: Embedder, tmp_path: Path
) -> None:
    settings, corpus, process = kills[FIRST_INGEST]
    process.communicate(timeout=300)
    assert process.returncode == -signal.SIGKILL

    store = reopen(settings)
    hidden = store.state().hidden
    assert hidden, "the kill came after a group was written and before it was published"
    assert any(version_of(i) in hidden for i, _ in store.inventory()), "the unpublished chunks are there"
    report = Ingestor(settings, embedder, store).run(corpus)
    assert report.recovered_chunks > 0
    # Groups published before the kill are kept, not embedded again.
    assert report.chunks_written < sum(len(v) for v in visible_versions(reopen(settings)).values())

    reference = Settings(data_dir=tmp_path / "reference", **SMALL)  # type: ignore[arg-type]
    Ingestor(reference, embedder, open_store(reference)).run(corpus)
    assert snapshot(reopen(settings), settings) == snapshot(reopen(reference), reference)
