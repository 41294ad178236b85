"""Options several commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cited.settings import Settings, get_settings

DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Store directory (default: CITED_DATA_DIR or ./data).")
]


SquadOption = Annotated[
    Path,
    typer.Option("--dataset", help="A SQuAD 2.0 slice: questions.jsonl and corpus/ (squad2-dev/README.md)."),
]
SQUAD2_DEV = Path("../shared/benchmarks/squad2-dev")


def settings_for(data_dir: Path | None) -> Settings:
    """The settings from the environment, with ``--data-dir`` when given."""
    settings = get_settings()
    return settings.model_copy(update={"data_dir": data_dir}) if data_dir else settings


def split_list(value: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``: a comma-separated option."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _report_dir(value: Path | None) -> Path:
    # Under the data directory unless asked: a run never writes into the checkout.
    return value if value is not None else get_settings().data_dir / "reports"


ReportDirOption = Annotated[
    Path | None,
    typer.Option(
        "--report-dir",
        "--reports",
        callback=_report_dir,
        help="Where the report goes (default: <data dir>/reports, never the checkout).",
    ),
]
