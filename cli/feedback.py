"""`cited feedback export`: readers' thumbs-down answers as eval cases."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import CommandError
from cli.options import DataDirOption, settings_for

feedback_app = typer.Typer(help="Readers' thumbs up/down from the page.", no_args_is_help=True)


@feedback_app.command("export")
def feedback_export(
    out: Annotated[
        Path | None, typer.Option("--out", help="JSONL file to write (default: standard output).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write the thumbs-down answers as eval cases (the golden set's JSONL), to review and keep.

    Each line has the question and what the reader saw and wrote; fill in its documents, facts and
    evidence, then run it with `cited eval --questions FILE` or add it to evals/data/golden.jsonl.
    """
    from cited.database.engine import open_database
    from evals.feedback_cases import export, export_to
    from service.feedback import FeedbackStore

    store = FeedbackStore(open_database(settings_for(data_dir)))
    try:
        written = export_to(store, out) if out else export(store, sys.stdout)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from exc
    liked = len(store.entries("up"))
    where = f" to {out}" if out else ""
    typer.secho(f"exported {written} thumbs-down case(s){where}; {liked} thumbs-up not exported", err=True)
