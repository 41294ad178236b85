"""Options several commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cited.settings import Settings, get_settings

DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Store directory (default: CITED_DATA_DIR or ./data).")
]


def settings_for(data_dir: Path | None) -> Settings:
    """The settings from the environment, with ``--data-dir`` when given."""
    settings = get_settings()
    return settings.model_copy(update={"data_dir": data_dir}) if data_dir else settings


def split_list(value: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``: a comma-separated option."""
    return [part.strip() for part in value.split(",") if part.strip()]
