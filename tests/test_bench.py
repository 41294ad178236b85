"""The retrieval benchmark run on a small slice of SciFact (the full run belongs to `make bench`).

SciFact is read in place from ../shared/benchmarks/scifact (CC BY-NC: never copied into the project).
"""

import json
import subprocess
from pathlib import Path

import pytest

from cited.settings import Settings
from evals.benchmarks import ingest_bench
from evals.benchmarks.beir import load_beir
from evals.benchmarks.page_latency import measure as measure_page
from evals.benchmarks.retrieval_bench import PEER, run
from evals.questions import DEV_QUESTIONS
from evals.questions import load as load_questions
from tests.conftest import ROOT, invoke_cited

SCIFACT = ROOT.parent / "shared" / "benchmarks" / "scifact"


@pytest.fixture(scope="module")
def scifact() -> Path:
    if not (SCIFACT / "corpus.jsonl").is_file():
        pytest.fail(f"{SCIFACT} is missing: CI and make test expect ../shared beside the checkout")
    return SCIFACT


def test_a_slice_keeps_every_relevant_document(scifact: Path) -> None:
    dataset = load_beir(scifact, "test", max_queries=4, max_docs=30)
    relevant = {doc for rels in dataset.qrels.values() for doc in rels}
    ids = {d.doc_id for d in dataset.corpus}
    assert len(dataset.queries) == len(dataset.qrels) == 4
    assert relevant <= ids and len(ids) >= 30


@pytest.mark.slow
def test_benchmark_on_a_slice_reports_every_system(scifact: Path, tmp_path: Path) -> None:
    table = run(scifact, tmp_path / "reports", max_queries=6, max_docs=40)
    systems = {row["system"]: row for row in table["systems"]}  # type: ignore[attr-defined]
    assert list(systems) == ["Cited default (hybrid)", "Cited dense-only", "Cited BM25-only", PEER]
    for row in systems.values():
        for metric in ("ndcg_10", "recall_100", "mrr_10"):
            assert 0.0 <= row[metric] <= 1.0
        assert row["median_ms"] > 0 and row["p95_ms"] >= row["median_ms"]
    # With 40-odd documents, every retriever finds most relevant ones somewhere in its top 100.
    assert all(row["recall_100"] >= 0.5 for row in systems.values())
    assert table["ingest_seconds"]["cited"] > 0 and table["cited_chunks"] > 40  # type: ignore[index]

    saved = json.loads((tmp_path / "reports" / "retrieval-scifact.json").read_text())
    assert saved["systems"] == table["systems"]
    markdown = (tmp_path / "reports" / "retrieval-scifact.md").read_text()
    assert "| Cited default (hybrid) |" in markdown and PEER in markdown


@pytest.mark.slow
def test_the_ingest_bench_times_ingest_and_raw_encoder_side_by_side_with_the_peer(
    scifact: Path, tmp_path: Path
) -> None:
    # The ratio's two sides always run next to each other, each going first in every other slice,
    # with the peer before them in half the slices and after them in the other half.
    orders = [ingest_bench._order(number, peer=True) for number in range(4)]
    for order in orders:
        assert sorted(order) == ["ingest", "peer", "raw"]
        assert abs(order.index("raw") - order.index("ingest")) == 1
    assert [order.index("raw") < order.index("ingest") for order in orders] == [True, False, True, False]
    assert [order[0] == "peer" for order in orders] == [True, True, False, False]

    table = ingest_bench.run(scifact, tmp_path / "reports", slices=2, max_docs=12, max_queries=2)
    row = table["builds"]["minilm"]  # type: ignore[index]
    slices = row["slices"]
    assert [s["order"] for s in slices] == orders[:2]
    assert row["chunks"] == sum(s["chunks"] for s in slices) >= 12
    raw, ingest = (sum(s[f"{step}_seconds"] for s in slices) for step in ("raw", "ingest"))
    assert row["ratio"] == pytest.approx(raw / ingest, abs=0.01) and row["ratio"] > 0
    # The ingest's own time by step: its encoder's share is what the raw encoder does alone.
    for s in slices:
        assert set(s["ingest_steps"]) == {
            "loading",
            "text",
            "tables",
            "ocr",
            "chunking",
            "encoder",
            "writing",
            "bm25",
        }
        assert 0 < s["ingest_steps"]["encoder"] < s["ingest_seconds"]
        assert sum(s["ingest_steps"].values()) <= s["ingest_seconds"] + 0.05
    outside = row["ingest_seconds"] - row["ingest_encoder_seconds"]
    assert row["ratio_if_encoders_equal"] == pytest.approx(raw / (raw + outside), abs=0.05)
    assert 0 < row["ndcg_10"]["hybrid"] <= 1 and table["peer"]["nodes"] >= 12  # type: ignore[index]
    markdown = (tmp_path / "reports" / "ingest-scifact-12docs.md").read_text(encoding="utf-8")
    assert "whole ingest ÷ raw encoder" in markdown and "wall time ÷ the peer's" in markdown
    assert "Had its encoder taken the raw encoder's time" in markdown


def test_the_dataset_is_never_copied_into_the_project() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "corpus.jsonl" not in tracked and "scifact/" not in tracked


def test_bench_refuses_a_folder_that_is_not_a_beir_dataset(tmp_path: Path) -> None:
    result = invoke_cited("bench", "retrieval", "--dataset", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "not a BEIR dataset" in result.stderr


def test_the_filings_bench_refuses_a_folder_that_is_not_a_financebench_slice_and_unknown_variants(
    tmp_path: Path,
) -> None:
    result = invoke_cited("bench", "filings", "--dataset", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "needs questions.jsonl and pdfs/" in result.stderr
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "questions.jsonl").write_text("", encoding="utf-8")
    result = invoke_cited(
        "bench", "filings", "--dataset", str(tmp_path), "--parts", "no tables", cwd=tmp_path
    )
    assert result.returncode == 2 and "unknown variant ['no tables']" in result.stderr


def test_the_evidence_judge_counts_a_page_of_the_filing_or_shared_five_grams() -> None:
    from evals.financebench import EvidenceJudge, FilingQuestion

    question = FilingQuestion(
        "q",
        "ACME_2022_10K",
        "Acme",
        "Did Acme grow?",
        (48,),
        ("Net sales grew 4% to 1,203 million in 2022.",),
    )
    judge = EvidenceJudge(question)
    assert judge.holds("ACME_2022_10K.pdf", 48, "anything on that page")
    assert not judge.holds("OTHER_2022_10K.pdf", 48, "anything on that page")
    assert judge.holds("OTHER.pdf", 3, "net sales grew 4% to 1,203 million in 2022")
    assert not judge.holds("ACME_2022_10K.pdf", 47, "Operating income fell in the second half of the year.")


# --- the page against the API (its own Playwright: test_ui.py's browser is module-scoped) ----------


@pytest.mark.browser
def test_the_page_bench_times_the_page_and_the_api_on_the_same_questions(
    served_corpus: Path, tmp_path: Path
) -> None:
    settings = Settings(data_dir=served_corpus / "data", corpus_dir=served_corpus / "corpus")
    questions = load_questions(DEV_QUESTIONS)[:4]
    result = measure_page(settings, questions, tmp_path)
    page, api = result["page_ms"], result["api_ms"]
    assert isinstance(page, dict) and isinstance(api, dict)
    assert result["questions"] == 4 and 0 < api["median"] <= api["max"] and 0 < page["median"] <= page["max"]
    assert float(str(result["median_page_over_api"])) > 0
    saved = json.loads((tmp_path / "page-latency.json").read_text())
    assert saved["page_ms"] == page
    assert "cited bench page" in (tmp_path / "page-latency.md").read_text()


@pytest.mark.slow  # seconds on 2 cores: `make test` runs it, the quick loop does not
def test_the_pdf_bench_times_both_extractors_and_checks_the_table_rows(tmp_path: Path) -> None:
    from evals.benchmarks.pdf_bench import measure

    result = measure(tmp_path / "pdfs", tmp_path / "reports", rounds=1, size=1)
    rows = {(r["document"], r["extractor"]): r for r in result["rows"]}  # type: ignore[attr-defined]
    assert len(rows) == 4 and all(r["ms_per_page"] > 0 for r in rows.values())
    assert rows[("report, a table on each page", "PDFium (shipped)")]["table_rows_on_one_line"] == "9/9"
    assert (
        "| dense 8-point text | PDFium (shipped) |"
        in (tmp_path / "reports" / "pdf-extraction.md").read_text()
    )
