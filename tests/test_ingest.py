"""Sync of a folder into the real Chroma store, with the real embedder."""

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cited.models.embedding import Embedder
from cited.settings import Settings
from cited.store.chunk_store import ChunkStore, list_documents, open_store
from cited.store.chunks import PAYLOAD, Chunk, unpack
from cited.store.search_filter import GROUP_FLAG, groups_of
from evals.benchmarks import chunk_write_bench
from ingest.loading import load
from ingest.manifest import Manifest
from ingest.sync import IngestError, Ingestor
from tests.conftest import CEO_DOC, HR_DOC, ROOT, chunk_texts, invoke_cited, stored_chunks
from tests.documents import write_pdf


# The server half starts a real `chroma run`: `make test` runs it, `make test-fast` leaves it out.
@pytest.fixture(params=["embedded", pytest.param("chroma-server", marks=pytest.mark.processes)])
def backend(request: pytest.FixtureRequest) -> str:
    """Every sync case runs against the embedded store and against a real Chroma server."""
    return str(request.param)


def test_ingesting_twice_adds_nothing(ingestor: Ingestor, corpus: Path) -> None:
    first = ingestor.run(corpus)
    count = ingestor.store.count()
    assert sorted(first.added) == [CEO_DOC, HR_DOC] and first.ok
    assert count == first.chunks_written > 2

    second = ingestor.run(corpus)
    assert ingestor.store.count() == count
    assert second.chunks_written == 0 and second.added == [] and sorted(second.unchanged) == [CEO_DOC, HR_DOC]


def test_stored_chunks_carry_document_metadata_and_exact_offsets(ingestor: Ingestor, corpus: Path) -> None:
    ingestor.run(corpus)
    documents = {d.source: d for d in ingestor.store.documents()}
    assert set(documents) == {CEO_DOC, HR_DOC}
    hr = load(corpus / HR_DOC, corpus)
    assert documents[HR_DOC].document_id == hr.document_id
    assert documents[HR_DOC].title == hr.title

    from ingest.cleaning import clean

    cleaned = clean(hr.pages[0]).text
    chunks = stored_chunks(ingestor.store, HR_DOC)
    assert len(chunks) == documents[HR_DOC].chunks
    for chunk in chunks:
        assert cleaned[chunk.start : chunk.end] == chunk.text
        assert chunk.page is None


def test_a_changed_file_replaces_its_chunks(ingestor: Ingestor, corpus: Path) -> None:
    ingestor.run(corpus)
    ceo_chunks = chunk_texts(ingestor.store, CEO_DOC)
    old_id = next(d.document_id for d in ingestor.store.documents() if d.source == HR_DOC)

    (corpus / HR_DOC).write_text(
        "Revised memo\n\nThe working group now meets every Friday.\n", encoding="utf-8"
    )
    report = ingestor.run(corpus)

    assert report.replaced == [HR_DOC] and report.unchanged == [CEO_DOC]
    assert chunk_texts(ingestor.store, HR_DOC) == [
        "Revised memo\n\nThe working group now meets every Friday."
    ]
    assert chunk_texts(ingestor.store, CEO_DOC) == ceo_chunks
    assert old_id not in {d.document_id for d in ingestor.store.documents()}
    assert not any("DingTalk" in text for text in chunk_texts(ingestor.store))


def test_a_removed_file_loses_its_chunks(ingestor: Ingestor, corpus: Path) -> None:
    ingestor.run(corpus)
    (corpus / HR_DOC).unlink()
    report = ingestor.run(corpus)
    assert report.removed == [HR_DOC]
    assert [d.source for d in ingestor.store.documents()] == [CEO_DOC]
    assert chunk_texts(ingestor.store, HR_DOC) == []


def test_the_document_list_is_read_once_per_published_change_from_the_document_index(
    ingestor: Ingestor, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingestor.run(corpus)
    store = ingestor.store
    reads = {"index": 0, "chunks": 0}
    entries, inventory = store.document_index.entries, store.inventory

    def counted(kind: str, read: Callable[[], object]) -> Callable[[], object]:
        def call() -> object:
            reads[kind] += 1
            return read()

        return call

    monkeypatch.setattr(store.document_index, "entries", counted("index", entries))
    monkeypatch.setattr(store, "inventory", counted("chunks", inventory))
    listed = store.documents()
    assert store.documents() == listed and store.documents(frozenset({"nobody"})) == []
    assert reads == {"index": 1, "chunks": 0}  # one read for three calls, and no chunk scanned
    (corpus / HR_DOC).unlink()
    ingestor.run(corpus)
    assert [d.source for d in store.documents()] == [CEO_DOC]
    # One more read for the list, one for the ingest's BM25 rebuild, and still no chunk scanned.
    assert reads == {"index": 3, "chunks": 0}


def listing_by_index_and_by_chunks(store: ChunkStore) -> tuple[list[object], list[object]]:
    state = store.state()
    # BM25's chunk labels (ids, groups, titles), read off the index, match the chunks' own too.
    labels = sorted((i, groups_of(m), str(m["title"])) for i, m in store.inventory() if state.visible(i))
    assert sorted(store.chunk_labels(state)) == labels
    return list_documents(store.document_index.entries(), state), list_documents(
        store.scan_documents(), state
    )


def test_the_document_index_follows_every_kind_of_change(ingestor: Ingestor, corpus: Path) -> None:
    store = ingestor.store
    ingestor.run(corpus)
    assert store.document_index.complete()
    by_index, by_chunks = listing_by_index_and_by_chunks(store)
    assert by_index == by_chunks and len(by_index) == 2

    (corpus / "notes.txt").write_text("Notes\n\nThe plan is reviewed each quarter.\n", encoding="utf-8")
    (corpus / "hr").mkdir()
    shutil.move(corpus / HR_DOC, corpus / "hr" / "3c-strategy.txt")  # a rename
    (corpus / CEO_DOC).write_text("Revised\n\nCreation over preservation, in one line.\n", encoding="utf-8")
    (corpus / "access.yaml").write_text('paths:\n  "hr/*": [hr]\n', encoding="utf-8")  # a re-label
    report = ingestor.run(corpus)
    assert report.relocated and report.replaced == [CEO_DOC] and report.added == ["notes.txt"]
    by_index, by_chunks = listing_by_index_and_by_chunks(store)
    assert by_index == by_chunks
    assert {d.source: readers for d, readers in by_index} == {
        CEO_DOC: frozenset({"everyone"}),
        "hr/3c-strategy.txt": frozenset({"hr"}),
        "notes.txt": frozenset({"everyone"}),
    }

    (corpus / "notes.txt").unlink()
    ingestor.run(corpus)
    by_index, by_chunks = listing_by_index_and_by_chunks(store)
    assert by_index == by_chunks and len(by_index) == 2


def test_a_store_from_before_the_document_index_is_listed_from_its_chunks_until_an_ingest_fills_it(
    ingestor: Ingestor, corpus: Path
) -> None:
    ingestor.run(corpus)
    store = ingestor.store
    expected = store.documents()
    records = store.document_index._collection
    records.delete(ids=records.get(include=[])["ids"])  # as a store written before the index
    (corpus / "notes.txt").write_text("Notes\n\nThe plan is reviewed each quarter.\n", encoding="utf-8")
    reader = open_store(ingestor.settings)
    assert not reader.document_index.complete()
    assert reader.documents() == expected  # from the chunks, complete

    ingestor.run(corpus)
    assert reader.document_index.complete()
    assert [d.source for d in reader.documents()] == sorted([d.source for d in expected] + ["notes.txt"])
    by_index, by_chunks = listing_by_index_and_by_chunks(reader)
    assert by_index == by_chunks


def test_a_chunk_is_stored_as_filter_keys_and_one_packed_field_with_no_chroma_document(
    ingestor: Ingestor, corpus: Path
) -> None:
    # Chroma full-text indexes every document and indexes every metadata key: both cost write time.
    ingestor.run(corpus)
    got = ingestor.store._collection.get(include=["documents", "metadatas"])  # type: ignore[list-item]
    assert got["ids"] and all(document is None for document in got["documents"] or [])
    for meta in got["metadatas"] or []:
        assert {k for k in meta if not k.startswith(GROUP_FLAG)} == {"document_id", "groups", PAYLOAD}
    assert "3C" in " ".join(chunk_texts(ingestor.store, HR_DOC))


def _as_written_before_packing(store: ChunkStore) -> list[Chunk]:
    """Rewrite every chunk record as Cited wrote it before: the text as the Chroma document and one
    metadata key per field."""
    chunks = stored_chunks(store)
    got = store._collection.get(ids=[c.id for c in chunks], include=["embeddings"])  # type: ignore[list-item]
    vectors = dict(zip(got["ids"], got["embeddings"], strict=True))  # type: ignore[arg-type]
    store._collection.delete(ids=[c.id for c in chunks])
    flat = [unpack(None, c.metadata())[1] for c in chunks]
    store._collection.add(
        ids=[c.id for c in chunks],
        embeddings=[vectors[c.id] for c in chunks],
        documents=[c.text for c in chunks],
        metadatas=flat,  # type: ignore[arg-type]
    )
    return chunks


def test_a_store_written_before_packing_is_read_renamed_and_extended_as_before(
    ingestor: Ingestor, corpus: Path
) -> None:
    ingestor.run(corpus)
    store = ingestor.store
    before = _as_written_before_packing(store)
    assert all(store._collection.get(include=["documents"])["documents"] or [None])  # the old layout
    assert stored_chunks(store) == before
    assert store.fetch([c.id for c in before]) == {c.id: c for c in before}

    shutil.move(corpus / HR_DOC, corpus / "renamed.txt")
    (corpus / "notes.txt").write_text("Notes\n\nThe plan is reviewed each quarter.\n", encoding="utf-8")
    report = ingestor.run(corpus)
    assert report.relocated == [(HR_DOC, "renamed.txt")] and report.added == ["notes.txt"]
    renamed = stored_chunks(store, "renamed.txt")
    old = [c for c in before if c.source == HR_DOC]
    assert [(c.id, c.text, c.title) for c in renamed] == [(c.id, c.text, c.title) for c in old]
    notes = stored_chunks(store, "notes.txt")
    assert [c.text for c in notes] == ["Notes\n\nThe plan is reviewed each quarter."]
    reader = open_store(ingestor.settings)
    by_index, by_chunks = listing_by_index_and_by_chunks(reader)
    assert by_index == by_chunks
    assert {d.source for d in reader.documents()} == {CEO_DOC, "renamed.txt", "notes.txt"}


def test_a_corrupt_pdf_is_reported_and_the_rest_ingested(ingestor: Ingestor, corpus: Path) -> None:
    (corpus / "reports").mkdir()
    (corpus / "reports" / "q3-board-pack.pdf").write_bytes(b"%PDF-1.7\n1 0 obj <<garbage\n%%EOF")
    report = ingestor.run(corpus)
    assert not report.ok
    assert [(source, "not a readable PDF" in reason) for source, reason in report.failed] == [
        ("reports/q3-board-pack.pdf", True)
    ]
    assert sorted(report.added) == [CEO_DOC, HR_DOC]
    assert {d.source for d in ingestor.store.documents()} == {CEO_DOC, HR_DOC}


def test_a_file_that_breaks_keeps_its_previous_version(ingestor: Ingestor, corpus: Path) -> None:
    good = write_pdf(corpus / "plan.pdf", ["The plan is to open three offices in 2026."])
    ingestor.run(corpus)
    before = chunk_texts(ingestor.store, "plan.pdf")
    assert before and "three offices" in before[0]

    good.write_bytes(b"%PDF-1.4 truncated by a failed upload")
    report = ingestor.run(corpus)
    assert [source for source, _ in report.failed] == ["plan.pdf"]
    assert report.removed == []
    assert chunk_texts(ingestor.store, "plan.pdf") == before  # nothing stored was lost


def test_pdf_chunks_record_their_page(ingestor: Ingestor, corpus: Path) -> None:
    write_pdf(
        corpus / "strategy.pdf",
        [
            " ".join(f"Retail sentence {i} on page one." for i in range(40)),
            " ".join(f"Cloud sentence {i} on page two." for i in range(40)),
        ],
    )
    ingestor.run(corpus)
    pages = {c.text.split()[0]: c.page for c in stored_chunks(ingestor.store, "strategy.pdf")}
    assert pages == {"Retail": 1, "Cloud": 2}


def test_a_renamed_file_is_moved_without_re_embedding(ingestor: Ingestor, corpus: Path) -> None:
    ingestor.run(corpus)
    ids = {c.id for c in stored_chunks(ingestor.store, HR_DOC)}
    (corpus / "hr").mkdir()
    shutil.move(corpus / HR_DOC, corpus / "hr" / "3c-strategy.txt")
    report = ingestor.run(corpus)
    assert report.relocated == [(HR_DOC, "hr/3c-strategy.txt")]
    assert report.chunks_written == 0 and report.removed == []
    assert {c.id for c in stored_chunks(ingestor.store, "hr/3c-strategy.txt")} == ids


def test_identical_files_are_indexed_once(ingestor: Ingestor, corpus: Path) -> None:
    shutil.copy(corpus / HR_DOC, corpus / "copy-of-hr.txt")
    report = ingestor.run(corpus)
    # Files are visited in sorted order, so the first path keeps the content and the copy is skipped.
    assert report.duplicates == [("copy-of-hr.txt", HR_DOC)]
    assert len(ingestor.store.documents()) == 2


@pytest.mark.slow  # re-embeds every chunk: `make test` runs it, the quick loop does not
def test_changing_chunk_settings_re_indexes_everything(
    make_settings: Callable[..., Settings], embedder: Embedder, corpus: Path
) -> None:
    settings = make_settings()
    Ingestor(settings, embedder, open_store(settings)).run(corpus)
    smaller = make_settings(chunk_size=96)
    store = open_store(smaller)
    before = store.count()
    report = Ingestor(smaller, embedder, store).run(corpus)
    assert sorted(report.reindexed) == [CEO_DOC, HR_DOC]
    assert store.count() == report.chunks_written > before  # old chunks gone, smaller ones in


def test_refuses_to_empty_the_index_from_an_empty_or_missing_folder(ingestor: Ingestor, corpus: Path,
                                                                    tmp_path: Path) -> None:  # fmt: skip
    ingestor.run(corpus)
    count = ingestor.store.count()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IngestError, match="refusing to remove all 2 documents"):
        ingestor.run(empty)
    with pytest.raises(IngestError, match="is not a folder"):
        ingestor.run(tmp_path / "no-such-folder")
    assert ingestor.store.count() == count


def test_the_manifest_records_hash_chunk_ids_and_time_of_each_document(
    ingestor: Ingestor, corpus: Path
) -> None:
    import hashlib

    ingestor.run(corpus)
    records = {r.source: r for r in Manifest(ingestor.settings.manifest_path).documents().values()}
    assert set(records) == {CEO_DOC, HR_DOC}
    hr = records[HR_DOC]
    assert hr.sha256 == hashlib.sha256((corpus / HR_DOC).read_bytes()).hexdigest()
    stored = {c.id for c in stored_chunks(ingestor.store, HR_DOC)}
    assert set(hr.chunk_ids) == stored and hr.ingested_at.startswith("20")
    assert Manifest(ingestor.settings.manifest_path).root() == str(corpus.resolve())


def test_untouched_files_are_not_even_read_again(ingestor: Ingestor, corpus: Path) -> None:
    first = ingestor.run(corpus)
    assert first.files_read == 2
    # Files older than the racy-time window are trusted by size and modification time.
    for name in (CEO_DOC, HR_DOC):
        os.utime(corpus / name, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    assert ingestor.run(corpus).files_read == 2  # their times changed: read once more
    second = ingestor.run(corpus)
    assert second.files_read == 0 and sorted(second.unchanged) == [CEO_DOC, HR_DOC]
    # An edit changes the modification time, so the file is read, and replaced.
    (corpus / HR_DOC).write_text("Changed memo\n\nThe group meets on Mondays.\n", encoding="utf-8")
    assert ingestor.run(corpus).replaced == [HR_DOC]


def test_a_dry_run_reports_every_change_and_writes_nothing(ingestor: Ingestor, corpus: Path) -> None:
    ingestor.run(corpus)
    manifest = Manifest(ingestor.settings.manifest_path)
    before = (ingestor.store.state(), sorted(ingestor.store._collection.get()["ids"]), manifest.documents())
    (corpus / HR_DOC).write_text("Changed memo\n\nThe group meets on Mondays.\n", encoding="utf-8")
    (corpus / "new.md").write_text("# New\n\nA new plan for the new year.\n", encoding="utf-8")
    shutil.move(corpus / CEO_DOC, corpus / "ceo.txt")
    plan = ingestor.run(corpus, dry_run=True)
    assert plan.dry_run and plan.added == ["new.md"] and plan.replaced == [HR_DOC]
    assert plan.relocated == [(CEO_DOC, "ceo.txt")] and plan.removed == [] and plan.chunks_written == 0
    after = (ingestor.store.state(), sorted(ingestor.store._collection.get()["ids"]), manifest.documents())
    assert after == before

    (corpus / "new.md").unlink()
    (corpus / "ceo.txt").unlink()
    assert ingestor.run(corpus, dry_run=True).removed == [CEO_DOC]
    real = ingestor.run(corpus)
    assert real.replaced == [HR_DOC] and real.removed == [CEO_DOC]


@pytest.mark.processes
def test_ingest_cli_dry_run_and_a_store_held_by_a_server(tmp_path: Path, corpus: Path, backend: str) -> None:
    if backend != "embedded":
        pytest.skip("the serving lock only concerns the embedded store")
    from cited.store.serving_lock import claim_for_serving
    from tests.conftest import invoke_cited, run_cited

    data = tmp_path / "cli-data"
    dry = invoke_cited("ingest", str(corpus), "--data-dir", str(data), "--dry-run", cwd=ROOT)
    assert dry.returncode == 0, dry.stderr
    assert f"would be added: {CEO_DOC}" in dry.stdout and "nothing written" in dry.stdout
    assert not (data / "manifest.sqlite").exists() and open_store(Settings(data_dir=data)).count() == 0

    claim = claim_for_serving(open_store(Settings(data_dir=data)))
    try:  # a real process: a lock held by this one is what it must respect
        held = run_cited("ingest", str(corpus), "--data-dir", str(data), cwd=ROOT)
    finally:
        assert claim is not None
        claim.release()
    assert held.returncode == 2 and "POST /documents" in held.stderr
    done = invoke_cited("ingest", str(corpus), "--data-dir", str(data), "--no-progress", cwd=ROOT)
    assert done.returncode == 0 and "2 added" in done.stdout


def test_a_relative_data_folder_is_fixed_where_the_process_started(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chroma reopens its SQLite file by the path it was given each time it recycles a connection
    (about every 30 minutes): with a relative path, a process that changed directory since then
    fails with "(code: 14) unable to open database file". Settings make every path absolute."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.txt").write_text(
        "The depot in Ghent opened in 2019 and employs forty people.\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITED_DATA_DIR", "data")
    settings = Settings()
    assert settings.data_dir == tmp_path / "data" and settings.keys_path.is_absolute()
    store = open_store(settings)
    Ingestor(settings, embedder, store).run(corpus)
    monkeypatch.chdir(corpus)  # anything in the process may change directory later
    assert store.embedded_path is not None and store.embedded_path.is_absolute()
    assert Manifest(settings.manifest_path).documents() and open_store(settings).count() == store.count() > 0
    assert not (corpus / "data").exists()


@pytest.mark.slow  # seconds on 2 cores: `make test` runs it, the quick loop does not
def test_the_document_list_and_write_benches_run_on_a_kept_store(
    ingestor: Ingestor, corpus: Path, tmp_path: Path, backend: str
) -> None:
    if backend != "embedded":
        pytest.skip("the bench reads a store kept by `cited bench ingest --keep`, which is embedded")
    ingestor.run(corpus)
    records = ingestor.store.document_index._collection
    records.delete(ids=records.get(include=[])["ids"])  # kept by an older Cited: the bench fills it
    reports = tmp_path / "reports"
    result = invoke_cited(
        "bench", "documents", "--store", str(ingestor.settings.data_dir), "--reports", str(reports)
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads((reports / "document-list.json").read_text(encoding="utf-8"))
    assert figures["documents"] == 2 and figures["index_filled_by_this_run"] is True
    assert set(figures["median_ms"]) == {"document index", "scan of every chunk"}
    assert "| document index (shipped) |" in (reports / "document-list.md").read_text(encoding="utf-8")
    assert ingestor.store.document_index.complete()

    missing = invoke_cited("bench", "documents", "--store", str(tmp_path / "nothing"))
    assert missing.returncode != 0 and "holds no Cited store" in missing.stderr

    # The write bench, on the same kept store: both layouts timed, and both read back the same chunks.
    writes = chunk_write_bench.measure(ingestor.settings, reports, chunks=1000, rounds=2)
    assert writes["chunks"] == ingestor.store.count()
    assert {name: len(seconds) for name, seconds in writes["seconds"].items()} == {  # type: ignore[attr-defined]
        "packed (shipped)": 2,
        "text as document (before)": 2,
    }
    assert "| packed (shipped) |" in (reports / "chunk-writes.md").read_text(encoding="utf-8")


def test_bm25_reads_and_tokenizes_only_the_new_chunks_after_an_ingest(
    ingestor: Ingestor, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingestor.run(corpus)
    store = ingestor.store
    before = set(ingestor.lexical.index._ids)
    asked: list[str] = []
    fetch = store.fetch

    def recorded(ids: list[str]) -> object:
        asked.extend(ids)
        return fetch(ids)

    def no_scan() -> object:
        raise AssertionError("BM25 read every chunk's text")

    monkeypatch.setattr(store, "fetch", recorded)
    monkeypatch.setattr(store, "texts", no_scan)
    (corpus / "notes.txt").write_text("Notes\n\nThe plan is reviewed each quarter.\n", encoding="utf-8")
    report = ingestor.run(corpus)
    new = {i for i, _ in store.inventory()} - before
    assert report.added == ["notes.txt"] and new and sorted(asked) == sorted(new)
    hits = ingestor.lexical.index.search("plan reviewed each quarter", 3)
    assert hits and hits[0].chunk_id in new
    assert set(ingestor.lexical.index._ids) == before | new


def test_a_renamed_document_is_found_by_bm25_under_its_new_title(ingestor: Ingestor, corpus: Path) -> None:
    # No heading line, so the title comes from the file name, and a rename changes it.
    body = "The quarterly review found that warehouse costs fell while staffing stayed level.\n"
    (corpus / "zephyr-logistics.txt").write_text(body, encoding="utf-8")
    ingestor.run(corpus)
    assert ingestor.lexical.index.search("zephyr", 3)

    (corpus / "zephyr-logistics.txt").rename(corpus / "quokka-freight.txt")
    report = ingestor.run(corpus)
    assert report.relocated == [("zephyr-logistics.txt", "quokka-freight.txt")] and report.chunks_written == 0
    hits = ingestor.lexical.index.search("quokka freight", 3)
    assert hits and ingestor.store.fetch([hits[0].chunk_id])[hits[0].chunk_id].source == "quokka-freight.txt"
    assert ingestor.lexical.index.search("zephyr", 3) == []
