"""The `cited` command as a user runs it: a real process, its output and its exit status."""

from pathlib import Path

from tests.conftest import run_cited
from tests.documents import write_pdf


def test_ingest_reports_a_bad_file_by_name_ingests_the_rest_and_exits_1(tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "plan.md").write_text("# Plan\n\nWe will open an office in Lyon in 2026.\n", encoding="utf-8")
    write_pdf(corpus / "brief.pdf", ["The brief covers pricing for the Lyon office."])
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.5 not really")
    (corpus / "photo.png").write_bytes(b"\x89PNG")

    run = run_cited(
        "ingest", str(corpus), "--data-dir", str(tmp_path / "data"), "--no-progress", cwd=tmp_path
    )
    assert run.returncode == 1, run.stderr
    assert "FAILED: scan.pdf: not a readable PDF" in run.stderr
    assert "Traceback" not in run.stderr
    assert "added: brief.pdf" in run.stdout and "added: plan.md" in run.stdout
    assert "skipped: photo.png (unsupported type" in run.stdout
    assert "2 added" in run.stdout and "1 failed" in run.stdout

    (corpus / "scan.pdf").unlink()
    again = run_cited(
        "ingest", str(corpus), "--data-dir", str(tmp_path / "data"), "--no-progress", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert "0 added" in again.stdout and "2 unchanged" in again.stdout


def test_ingest_of_a_missing_folder_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    run = run_cited("ingest", str(tmp_path / "nowhere"), "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert run.returncode == 2
    assert "is not a folder" in run.stderr and "Traceback" not in run.stderr


def test_help_lists_the_commands(tmp_path: Path) -> None:
    run = run_cited("--help", cwd=tmp_path)
    assert run.returncode == 0
    for command in ("ingest", "serve", "ask", "calibrate"):
        assert command in run.stdout
