"""A clean tree: nothing large or built is tracked, runs write outside the checkout, and every
reference report is named in docs/reports.md with its command."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import click
import pytest
import typer.main

from cli.main import app

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1_000_000
# Committed model files may be larger one day; today the only one is a few kilobytes.
MODEL_FILES = {"service/answering/span_model.json"}


def tracked() -> list[str]:
    return subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")[:-1]


def test_no_tracked_file_is_over_a_megabyte_outside_the_corpus_and_model_files() -> None:
    large = [
        f
        for f in tracked()
        if not f.startswith("corpus/") and f not in MODEL_FILES and (ROOT / f).stat().st_size > LIMIT
    ]
    assert large == []


@pytest.mark.parametrize("built", ["x.whl", "a/b.pyc", "a/__pycache__/b.py", "dist/x.tar.gz", "data/r.md"])
def test_built_files_are_ignored(built: str) -> None:
    ignored = subprocess.run(["git", "check-ignore", "--no-index", "-q", built], cwd=ROOT)
    assert ignored.returncode == 0, f"{built} is not ignored by .gitignore"


def test_every_reference_report_is_named_with_its_command_and_every_named_one_exists() -> None:
    page = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    kept = {p.stem for p in (ROOT / "reports").iterdir() if p.suffix in (".md", ".json")}
    named = set(re.findall(r"\.\./reports/([\w.-]+)\.md", page))
    assert kept - named == set(), "name these reports in docs/reports.md, with their command"
    for doc in (ROOT / "docs").glob("*.md"):
        for stem in re.findall(r"\.\./reports/([\w.-]+)\.(?:md|json)", doc.read_text(encoding="utf-8")):
            assert (ROOT / "reports" / f"{stem}.md").is_file(), f"{doc.name} links to a missing report {stem}"


def report_options() -> list[tuple[str, object]]:
    found = []

    def walk(command: object, name: str) -> None:
        for sub_name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{name} {sub_name}")
        for param in getattr(command, "params", []):
            if param.name == "reports":
                found.append((name, param))

    walk(typer.main.get_command(app), "cited")
    return found


def test_every_command_that_writes_a_report_defaults_to_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CITED_DATA_DIR", str(tmp_path / "data"))
    options = report_options()
    names = {name for name, _ in options}
    expected = {"cited bench pdf", "cited bench ingest", "cited eval", "cited calibrate"}
    expected.add("cited train answers")
    assert expected <= names
    context = click.Context(typer.main.get_command(app))
    for name, param in options:
        assert "--report-dir" in param.opts, name  # type: ignore[attr-defined]
        resolved = param.callback(context, param, None)  # type: ignore[attr-defined]
        assert resolved.resolve() == (tmp_path / "data" / "reports").resolve(), name
        assert not resolved.resolve().is_relative_to(ROOT), name
        given = param.callback(context, param, tmp_path / "elsewhere")  # type: ignore[attr-defined]
        assert given == tmp_path / "elsewhere", name
