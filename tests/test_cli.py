"""The `cited` command: its output and exit status. Run in-process (the same code and exit codes)
except where the real process matters: the installed console script."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import invoke_cited
from tests.documents import write_pdf


def test_ingest_reports_a_bad_file_by_name_ingests_the_rest_and_exits_1(tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "plan.md").write_text("# Plan\n\nWe will open an office in Lyon in 2026.\n", encoding="utf-8")
    write_pdf(corpus / "brief.pdf", ["The brief covers pricing for the Lyon office."])
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.5 not really")
    (corpus / "photo.png").write_bytes(b"\x89PNG")

    run = invoke_cited(
        "ingest", str(corpus), "--data-dir", str(tmp_path / "data"), "--no-progress", cwd=tmp_path
    )
    assert run.returncode == 1, run.stderr
    assert "FAILED: scan.pdf: not a readable PDF" in run.stderr
    assert "Traceback" not in run.stderr
    assert "added: brief.pdf" in run.stdout and "added: plan.md" in run.stdout
    assert "skipped: photo.png (unsupported type" in run.stdout
    assert "2 added" in run.stdout and "1 failed" in run.stdout
    # Where the time went, by step (IngestReport.step_seconds).
    step = r"{} [\d.]+ s"
    named = ", ".join(
        step.format(name)
        for name in ("loading", "text", "tables", "ocr", "chunking", "encoder", "writing", "bm25")
    )
    steps = re.search(rf"chunks embedded in [\d.]+ s \({named}\)", run.stdout)
    assert steps is not None, run.stdout

    (corpus / "scan.pdf").unlink()
    again = invoke_cited(
        "ingest", str(corpus), "--data-dir", str(tmp_path / "data"), "--no-progress", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert "0 added" in again.stdout and "2 unchanged" in again.stdout
    assert "0 chunks embedded in" in again.stdout and "encoder" not in again.stdout


def test_ingest_of_a_missing_folder_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    run = invoke_cited(
        "ingest", str(tmp_path / "nowhere"), "--data-dir", str(tmp_path / "data"), cwd=tmp_path
    )
    assert run.returncode == 2
    assert "is not a folder" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.processes
def test_the_installed_command_lists_its_commands_without_loading_a_model(tmp_path: Path) -> None:
    """The console script pip installed, as a user runs it; --help imports no model library."""
    cited = Path(sys.executable).parent / "cited"
    run = subprocess.run([str(cited), "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr
    for command in ("ingest", "serve", "ask", "calibrate", "bench", "eval", "keys", "users", "feedback"):
        assert command in run.stdout
    heavy = "('torch', 'chromadb', 'gradio', 'sentence_transformers')"
    probe = f"import sys; from cli.main import app; print(sorted(m for m in sys.modules if m in {heavy}))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert loaded.returncode == 0 and loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr


def test_cited_ask_reads_a_follow_up_with_its_earlier_questions(served_corpus: Path) -> None:
    data = str(served_corpus / "data")
    run = invoke_cited(
        "ask", "And when did they set it up?", "--earlier", "Who set up the emergency working group?",
        "--data-dir", data,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    assert body["outcome"] == "answered" and "January 23rd" in body["answer"]
    assert "working group" in body["searched_question"]
    too_long = invoke_cited("ask", "And then?", "--earlier", "x" * 2001, "--data-dir", data)
    assert too_long.returncode == 2 and "history.0.question" in too_long.stderr
    assert "Traceback" not in too_long.stderr
