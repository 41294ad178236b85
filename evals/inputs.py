"""What a benchmark or eval checks of its inputs before it spends minutes on them: each refusal names the
input and how to fix it (the command line turns it into exit code 2)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cited.errors import InvalidInputError
from cited.settings import Settings


def require_beir(dataset: Path) -> None:
    """Refuses a folder that is not a BEIR dataset."""
    if not (dataset / "corpus.jsonl").is_file():
        raise InvalidInputError("not_a_dataset", f"{dataset} is not a BEIR dataset (no corpus.jsonl)")


def kept_store(settings: Settings, store: Path) -> Settings:
    """The settings of a data folder kept by ``cited bench ingest --keep``, or a refusal that says how
    to make one."""
    if not (store / "manifest.sqlite").exists():
        raise InvalidInputError(
            "no_store", f"{store} holds no Cited store; make one with `cited bench ingest --keep DIR`"
        )
    return settings.model_copy(update={"data_dir": store})


def new_folder(keep: Path | None) -> None:
    """Refuses a ``--keep`` folder that already holds something (it would be mixed into)."""
    if keep is not None and keep.exists() and any(keep.iterdir()):
        raise InvalidInputError("folder_not_empty", f"{keep} is not empty; give --keep a new folder")


def known_names(asked: Iterable[str], known: Iterable[str], what: str) -> None:
    """Refuses names (builds, articles) that are not among ``known``, listing those that are."""
    choices = list(known)
    if unknown := sorted(set(asked) - set(choices)):
        raise InvalidInputError(f"unknown_{what}", f"unknown {what} {unknown}; choose from {choices}")
