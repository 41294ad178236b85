"""`cited audit`: the audit trail, filtered, as JSON lines or CSV."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from cli.errors import CommandError
from cli.options import DataDirOption, settings_for


def _moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"{option} {value!r} is not a date or time; write it like 2026-12-01 or 2026-12-01T09:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def audit(
    since: Annotated[
        str | None, typer.Option(help="From this date or time (ISO 8601; UTC if no zone).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Before this date or time.")] = None,
    user: Annotated[
        str | None, typer.Option(help="key:<id>, user:<name>, sso:<name>, or a bare name (any of them).")
    ] = None,
    document: Annotated[
        str | None, typer.Option(help="Only questions that were shown this document id.")
    ] = None,
    format: Annotated[Literal["jsonl", "csv"], typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Export the audit trail: who asked, when, through what, the outcome and the passages shown."""
    from cited.database.engine import open_database
    from cited.operations.metrics import Metrics
    from service.audit import AuditTrail, as_csv, as_jsonl

    settings = settings_for(data_dir)
    trail = AuditTrail(open_database(settings), settings.audit, settings.audit_days, Metrics())
    records = trail.records(_moment(since, "--since"), _moment(until, "--until"), user, document)
    text = as_jsonl(records) if format == "jsonl" else as_csv(records)
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from exc
    typer.secho(f"{len(records)} audit record(s)", err=True)
