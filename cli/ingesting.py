"""`cited ingest`: make the index equal to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.errors import CommandError
from cli.options import DataDirOption, settings_for


def ingest(
    path: Annotated[
        Path | None, typer.Argument(help="Folder of documents (default: CITED_CORPUS_DIR or ./corpus).")
    ] = None,
    data_dir: DataDirOption = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar while embedding.")] = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print what would change; write nothing.")
    ] = False,
) -> None:
    """Make the index equal to a folder: new files added, changed replaced, removed dropped.

    Safe to interrupt: run it again and it finishes the job (nothing duplicated, nothing lost).
    Exits 1 when any file could not be read (the rest is still ingested), 2 on a bad folder or
    store.
    """
    from cited.models.embedding import configured_embedder
    from cited.store.chunk_store import StoreUnavailableError, open_store
    from cited.store.serving_lock import StoreBusyError, ensure_not_served
    from ingest.formats import READABLE
    from ingest.sync import IngestError, Ingestor

    settings = settings_for(data_dir)
    root = path or settings.corpus_dir
    try:
        store = open_store(settings)
        if not dry_run:
            ensure_not_served(store)
        ingestor = Ingestor(settings, configured_embedder(settings), store)
        report = ingestor.run(root, progress=progress and not dry_run, dry_run=dry_run)
    except StoreBusyError as exc:
        raise CommandError(
            f"{exc} To change its documents while it serves, upload or delete them over HTTP "
            "(POST /documents, DELETE /documents/{id})."
        ) from exc
    except (IngestError, StoreUnavailableError) as exc:
        raise CommandError(str(exc)) from exc

    would = "would be " if dry_run else ""
    if report.recovered_chunks:
        typer.echo(f"recovered: deleted {report.recovered_chunks} chunks an interrupted ingest left hidden")
    for label, items in [
        ("added", report.added),
        ("replaced", report.replaced),
        ("re-indexed (settings changed)", report.reindexed),
        ("removed", report.removed),
    ]:
        for source in items:
            typer.echo(f"{would}{label}: {source}")
    for old, new in report.relocated:
        typer.echo(f"{would}renamed: {old} -> {new}")
    for source, original in report.duplicates:
        typer.echo(f"skipped: {source} (same content as {original})")
    for source in report.unsupported:
        typer.echo(f"skipped: {source} (unsupported type; Cited reads {READABLE})")
    for source, groups in report.regrouped:
        typer.echo(
            f"{'access would change' if dry_run else 'access changed'}: {source} -> {', '.join(groups)}"
        )
    for source, warning in report.warnings:
        typer.secho(f"PARTLY READ: {source}: {warning}", fg="yellow", err=True)
    for source, reason in report.failed:
        typer.secho(f"FAILED: {source}: {reason}", fg="red", err=True)
    if dry_run:
        typer.echo(
            f"dry run: {len(report.added)} to add, {len(report.replaced) + len(report.reindexed)} to "
            f"replace, {len(report.removed)} to remove, {len(report.unchanged)} unchanged; nothing written"
        )
        return
    typer.echo(
        f"{len(report.added)} added, {len(report.replaced)} replaced, {len(report.removed)} removed, "
        f"{len(report.unchanged)} unchanged, {len(report.failed)} failed; "
        f"{report.chunks_written} chunks embedded in {report.seconds:.1f} s"
        + (
            " (" + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.step_seconds.items()) + ")"
            if report.chunks_written
            else ""
        )
    )
    if report.ocr_pages:
        seconds = report.step_seconds["ocr"]
        typer.echo(
            f"OCR: {report.ocr_pages} scanned page(s) read in {seconds:.1f} s "
            f"({report.ocr_pages / max(seconds, 1e-9):.2f} pages/s)"
        )
    if not report.ok:
        raise CommandError(
            f"{len(report.failed)} file(s) could not be read (listed above); the rest is indexed", exit_code=1
        )
