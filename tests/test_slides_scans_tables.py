"""Decks, scanned pages and tables: read with python-pptx, Tesseract and PDFium's layout, cited by
slide or page, and every unreadable file named with its reason while the rest is ingested."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from cited.models.embedding import Embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from ingest.loading import UnreadableFileError, load
from ingest.ocr import missing_reason
from ingest.pdf_pages import ReadOptions
from ingest.sync import Ingestor
from service.answering.answer_service import AnswerService
from service.answering.ask_schema import AskRequest
from tests.conftest import CORPUS, HR_DOC, stored_chunks
from tests.documents import image_pdf_from_text, write_docx, write_pdf, write_pptx, write_table_pdf

needs_tesseract = pytest.mark.skipif(
    missing_reason("eng") is not None,
    reason="Tesseract is not installed here: .ci/run installs tesseract-ocr and tesseract-ocr-eng",
)
# Reading a whole scan takes Tesseract 1.5 s a page: `make test` runs these, `make test-fast` not.
ocr_pages = pytest.mark.slow

DECK = [
    ("Growth plan 2026", ["We open four new regional offices.", "Hiring is centred on engineering."]),
    ("Regional targets", ["Each region owns its revenue target."]),
    ("Risks", ["Currency swings could cut margins by two points."]),
]
TARGETS = [["Region", "2025", "2026"], ["North", "120", "150"], ["South", "80", "95"]]


def _deck(path: Path) -> Path:
    return write_pptx(
        path,
        DECK,
        table=(1, TARGETS),
        notes={2: "Mention the hedging programme approved in March."},
        grouped={1: ["Owner: Mara Olsen", "Review: quarterly"]},
    )


def test_a_deck_is_read_slide_by_slide_titles_first_then_shapes_tables_groups_and_notes(
    tmp_path: Path,
) -> None:
    document = load(_deck(tmp_path / "plan.pptx"), tmp_path)
    assert document.unit == "slide" and document.paged and len(document.pages) == 3
    assert document.title == "Growth plan 2026"
    first, second, third = document.pages
    assert first.startswith("Growth plan 2026\n\nWe open four new regional offices.")
    # Reading order: the text box, then the table below it, then the group at the bottom.
    assert second.index("Each region owns") < second.index("North — 2025: 120; 2026: 150")
    assert second.index("South — 2025: 80; 2026: 95") < second.index("Owner: Mara Olsen")
    assert "Review: quarterly" in second
    assert third.endswith("Speaker notes: Mention the hedging programme approved in March.")


def test_deck_chunks_never_cross_slides_and_citations_name_their_slide(
    tmp_path: Path, make_settings: Callable[..., Settings], embedder: Embedder
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    long_slides = [
        (f"Section {n}", [f"Paragraph {n}.{i} says the plan has step {n}{i}." for i in range(40)])
        for n in range(3)
    ]
    write_pptx(corpus / "long.pptx", long_slides)
    _deck(corpus / "plan.pptx")
    settings = make_settings()
    report = Ingestor(settings, embedder, open_store(settings)).run(corpus)
    assert report.ok, report.failed
    store = open_store(settings)
    chunks = stored_chunks(store, "long.pptx")
    assert len(chunks) > 3  # the long slides needed several chunks each
    slides = load(corpus / "long.pptx", corpus).pages
    for chunk in chunks:
        assert chunk.page is None and chunk.slide is not None
        assert chunk.text in slides[chunk.slide - 1]  # within one slide
    reply = AnswerService.from_settings(settings, embedder).ask(
        AskRequest(question="Who could cut margins by two points?")
    )
    cited = [c for c in reply.citations if c.source == "plan.pptx"]
    assert cited and cited[0].slide == 3 and cited[0].page is None


def test_docx_tables_become_rows_that_keep_their_labels(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "memo.docx", "Strategy memo", ["Targets by region:"], table=TARGETS)
    text = load(path, tmp_path).pages[0]
    assert "North — 2025: 120; 2026: 150\nSouth — 2025: 80; 2026: 95" in text
    assert text.index("Targets by region:") < text.index("North —") < text.index("A closing paragraph")
    plain = load(path, tmp_path, ReadOptions(table_rows=False)).pages[0]
    assert "North | 120 | 150" in plain


def test_a_pdf_table_becomes_labelled_rows_in_place_of_its_cells(tmp_path: Path) -> None:
    rows = [
        ("Region", "2024", "2025", "Change"),
        ("North", "100", "112", "+12%"),
        ("South", "90", "81", "-10%"),
    ]
    write_table_pdf(
        tmp_path / "results.pdf",
        "Regional results for the year (in millions).",
        rows,
        after="Closing words after the table.",
    )
    text = load(tmp_path / "results.pdf", tmp_path).pages[0]
    assert "North — 2024: 100; 2025: 112; Change: +12% (millions)" in text
    assert "South — 2024: 90; 2025: 81; Change: -10% (millions)" in text
    # The prose around the table once, and the cells not again as loose numbers.
    assert text.count("Regional results for the year") == 1 and text.count("112") == 1
    assert text.index("Regional results") < text.index("North —") < text.index("Closing words")
    loose = load(tmp_path / "results.pdf", tmp_path, ReadOptions(table_rows=False)).pages[0]
    assert "North —" not in loose and "112" in loose


def test_prose_pages_keep_pdfiums_text(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "memo.pdf", ["Revenue grew 12% in 2025. Margins held at 31%.\n\nWe hired 40 engineers."]
    )
    assert load(path, tmp_path).pages[0] == load(path, tmp_path, ReadOptions(table_rows=False)).pages[0]


@ocr_pages
@needs_tesseract
def test_a_scanned_pdf_is_read_by_ocr_and_its_passages_say_so(
    tmp_path: Path, make_settings: Callable[..., Settings], embedder: Embedder
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    pages = len(pdfium.PdfDocument(image_pdf_from_text(CORPUS / HR_DOC, corpus / "hr-scan.pdf")))
    settings = make_settings()
    store = open_store(settings)
    report = Ingestor(settings, embedder, store).run(corpus)  # the scan is read once, here
    assert report.ok and report.ocr_pages == pages and report.step_seconds["ocr"] > 0
    chunks = stored_chunks(store)
    assert all(c.ocr for c in chunks) and {c.page for c in chunks} == set(range(1, pages + 1))
    assert any("Executive Chairman of Ant Financial Eric Jing" in " ".join(c.text.split()) for c in chunks)
    reply = AnswerService.from_settings(settings, embedder).ask(
        AskRequest(question="Which Ant Financial executive was part of the emergency working group?")
    )
    assert reply.citations and all(c.ocr and c.page for c in reply.citations)


def _board_report(path: Path, scratch: Path) -> Path:
    """A report whose first page has a text layer and whose next three pages are scans (the HR
    article scanned); the scan alone is returned."""
    import pypdfium2 as pdfium

    scan = image_pdf_from_text(CORPUS / HR_DOC, scratch / "scan.pdf")
    report = pdfium.PdfDocument(
        write_pdf(scratch / "cover.pdf", ["Board report 2026: the cover has a text layer."])
    )
    report.import_pages(pdfium.PdfDocument(scan))
    report.save(str(path))
    return scan


@needs_tesseract
def test_with_ocr_off_each_scanned_page_is_listed_with_what_to_do_and_the_rest_is_ingested(
    tmp_path: Path, make_settings: Callable[..., Settings], embedder: Embedder
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    scan = _board_report(corpus / "board-report.pdf", tmp_path)
    shutil.copy(scan, corpus / "all-scanned.pdf")
    shutil.copy(CORPUS / HR_DOC, corpus / HR_DOC)
    settings = make_settings(ocr="off")
    report = Ingestor(settings, embedder, open_store(settings)).run(corpus)
    assert sorted(report.added) == [HR_DOC, "board-report.pdf"]
    ((source, reason),) = report.failed
    assert source == "all-scanned.pdf"
    assert "no text: pages 1, 2, 3 are scanned images with no text layer" in reason
    assert "CITED_OCR=off" in reason and "CITED_OCR=auto" in reason
    ((source, warning),) = report.warnings
    assert source == "board-report.pdf" and warning.startswith("pages 2, 3, 4 are scanned images")


def test_a_missing_ocr_language_names_the_package_to_install() -> None:
    reason = missing_reason("eng+xyz")
    assert reason is not None and "tesseract-ocr-xyz" in reason


def _encrypted(deck: Path) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    with deck.open("rb") as plain:
        OOXMLFile(plain).encrypt("board-only", out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("corrupt.pptx", b"PK\x03\x04 this zip ends here", "not a readable PPTX"),
        ("protected.pptx", None, "password-protected"),
        ("empty.pptx", b"", "the file is empty"),
        ("empty.pdf", b"", "the file is empty"),
    ],
)
def test_bad_decks_and_empty_files_are_listed_and_keep_what_was_stored(
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    embedder: Embedder,
    name: str,
    content: bytes | None,
    reason: str,
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    if name.endswith(".pdf"):  # a good version first
        write_pdf(corpus / name, ["Revenue grew 12% in 2025."])
    else:
        _deck(corpus / name)
    shutil.copy(CORPUS / HR_DOC, corpus / HR_DOC)
    settings = make_settings()
    ingestor = Ingestor(settings, embedder, open_store(settings))
    assert ingestor.run(corpus).ok
    before = {c.id for c in stored_chunks(open_store(settings), name)}
    (corpus / name).write_bytes(_encrypted(corpus / name) if content is None else content)
    report = ingestor.run(corpus)
    ((source, why),) = report.failed
    assert source == name and reason in why
    # The earlier version is still stored and searchable; the other document is untouched.
    assert {c.id for c in stored_chunks(open_store(settings), name)} == before
    assert report.unchanged == [HR_DOC]


def test_an_unreadable_deck_says_why(tmp_path: Path) -> None:
    path = tmp_path / "deck.pptx"
    path.write_bytes(_encrypted(_deck(tmp_path / "plain.pptx")))
    with pytest.raises(UnreadableFileError, match=r"password-protected.*save a copy without a password"):
        load(path, tmp_path)


def test_the_page_names_a_citations_slide_and_says_when_ocr_read_it() -> None:
    from service.answering.ask_schema import Citation
    from ui.render import marker_link

    fields = {"document_id": "d", "title": "Plan", "text": "We grow.", "start": 0, "end": 8, "score": 1.0}
    slide = Citation(id=1, quote="We grow.", source="plan.pptx", slide=3, **fields)
    scan = Citation(id=2, quote="We grow.", source="scan.pdf", page=2, ocr=True, **fields)
    assert "plan.pptx, slide 3" in marker_link(0, slide)
    assert "scan.pdf, page 2 (read by OCR)" in marker_link(0, scan)


@ocr_pages
@needs_tesseract
def test_an_uploaded_scan_is_read_by_ocr_once_and_refused_by_name_with_ocr_off(
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cited.errors import InvalidInputError
    from ingest import ocr
    from ingest.changes import CorpusChanges

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / HR_DOC, corpus / HR_DOC)
    scan = image_pdf_from_text(CORPUS / HR_DOC, tmp_path / "scan.pdf").read_bytes()
    settings = make_settings(corpus_dir=corpus)
    ingestor = Ingestor(settings, embedder, open_store(settings))
    assert ingestor.run(corpus).ok
    read = ocr.read_page
    pages: list[int] = []

    def counted(page: object, languages: str, dpi: int = ocr.RENDER_DPI) -> str:
        pages.append(1)  # the real reader runs; only its calls are counted
        return read(page, languages, dpi)

    monkeypatch.setattr(ocr, "read_page", counted)
    change = CorpusChanges(settings, ingestor).upload("hr-scan.pdf", scan, None)
    assert change.status == "added" and change.chunks >= 1
    assert len(pages) == 3  # each of the scan's 3 pages once: the upload's check reads no image
    off = settings.model_copy(update={"ocr": "off"})
    with pytest.raises(InvalidInputError, match=r"scanned images with no text layer.*CITED_OCR=off"):
        CorpusChanges(off, Ingestor(off, embedder, open_store(off))).upload("other-scan.pdf", scan, None)
    assert not (corpus / "uploads" / "other-scan.pdf").exists()


@ocr_pages
@needs_tesseract
def test_cited_ingest_names_the_unread_scans_and_what_to_set_and_says_how_fast_ocr_read(
    tmp_path: Path,
) -> None:
    from tests.conftest import invoke_cited

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _board_report(corpus / "board-report.pdf", tmp_path)
    env = {"CITED_DATA_DIR": str(tmp_path / "data"), "CITED_OCR": "off"}
    off = invoke_cited("ingest", str(corpus), cwd=tmp_path, env=env)
    assert off.returncode == 0, off.stderr
    assert "PARTLY READ: board-report.pdf: pages 2, 3, 4 are scanned images with no text layer" in off.stderr
    assert "set CITED_OCR=auto" in off.stderr and "1 added" in off.stdout
    on = invoke_cited("ingest", str(corpus), cwd=tmp_path, env={**env, "CITED_OCR": "auto"})
    assert on.returncode == 0 and "PARTLY READ" not in on.stderr
    assert re.search(r"OCR: 3 scanned page\(s\) read in [\d.]+ s \([\d.]+ pages/s\)", on.stdout), on.stdout
