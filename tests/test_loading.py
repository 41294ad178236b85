from pathlib import Path

import pytest

from ingest.loading import UnreadableFileError, discover, document_id, load
from tests.conftest import CEO_DOC, CORPUS, HR_DOC
from tests.documents import encrypt_pdf, write_docx, write_pdf, write_table_pdf


def test_text_titles_come_from_a_heading_line_or_the_file_name() -> None:
    hr = load(CORPUS / HR_DOC, CORPUS)
    ceo = load(CORPUS / CEO_DOC, CORPUS)
    assert hr.title == "Alibaba’s winning HR strategy during the crisis"
    # The CEO article starts with a long paragraph, so its title comes from its descriptive file name.
    assert ceo.title == "Alibaba CEO Wu Yongming on creation over preservation"
    assert hr.source == HR_DOC and not hr.paged and len(hr.pages) == 1


def test_document_id_is_a_content_hash(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    b = tmp_path / "sub" / "b.txt"
    b.parent.mkdir()
    a.write_text("Same words.\n", encoding="utf-8")
    b.write_text("Same words.\n", encoding="utf-8")
    assert load(a, tmp_path).document_id == load(b, tmp_path).document_id == document_id(a.read_bytes())
    b.write_text("Other words.\n", encoding="utf-8")
    assert load(b, tmp_path).document_id != load(a, tmp_path).document_id
    assert load(b, tmp_path).source == "sub/b.txt"


def test_markdown_title_is_its_first_heading(tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    path.write_text("Intro line without heading\n\n# Growth plan 2025\n\nWe will grow.\n", encoding="utf-8")
    assert load(path, tmp_path).title == "Growth plan 2025"


def test_html_keeps_content_and_drops_code_and_page_chrome(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Board memo</title><style>p{color:red}</style></head><body>"
        "<nav>Home | About | Careers</nav>"
        "<h1>Board memo</h1><p>The board approved the <b>new</b> budget.</p>"
        "<p>Hiring resumes<br>in March.</p><script>alert('x')</script>"
        "<footer>© Example Corp</footer></body></html>",
        encoding="utf-8",
    )
    document = load(path, tmp_path)
    text = document.pages[0]
    assert document.title == "Board memo"
    assert "The board approved the new budget." in text  # inline tags stay inside the sentence
    assert "Hiring resumes\nin March." in text
    for chrome in ("alert", "color:red", "Careers", "Example Corp"):
        assert chrome not in text


def test_pdf_pages_and_title(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "report.pdf",
        ["Page one talks about revenue.", "Page two talks about hiring.", "Page three: outlook."],
        title="Annual report",
    )
    document = load(path, tmp_path)
    assert document.paged and document.title == "Annual report"
    assert len(document.pages) == 3
    assert "hiring" in document.pages[1] and "outlook" in document.pages[2]


def test_a_one_row_pdf_table_is_read_a_row_to_a_line(tmp_path: Path) -> None:
    rows = [("Region", "2024", "2025", "Change"), ("North", "100 m", "112 m", "+12%")]
    write_table_pdf(tmp_path / "results.pdf", "Regional results for the year.", rows)
    lines = load(tmp_path / "results.pdf", tmp_path).pages[0].splitlines()
    # One row of figures is not yet a table (ingest/pdf_tables.py): PDFium's lines are kept.
    assert "Region 2024 2025 Change" in lines and "North 100 m 112 m +12%" in lines


def test_docx_title_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "memo.docx",
        "Strategy memo",
        ["First paragraph.", "Second paragraph."],
        table=[["Region", "Target"], ["East", "12%"]],
    )
    document = load(path, tmp_path)
    text = document.pages[0]
    assert document.title == "Strategy memo"
    table = text.index("East — Target: 12%")
    assert text.index("Second paragraph.") < table < text.index("A closing paragraph")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n%%EOF", "not a readable PDF"),
        ("broken.docx", b"PK\x03\x04 not a zip at all", "not a readable DOCX"),
        ("empty.txt", b"   \n", "the file is empty"),
        ("binary.txt", b"\x00\x01\x02\x03" * 100, "binary"),
    ],
)
def test_unreadable_files_say_why(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=reason):
        load(path, tmp_path)


@pytest.mark.parametrize("algorithm", ["AES-256", "AES-128", "RC4-128"])
def test_a_pdf_with_only_an_owner_password_reads_like_any_other(tmp_path: Path, algorithm: str) -> None:
    path = write_pdf(tmp_path / "filing.pdf", ["Item 7. Revenue grew 12%.", "Item 8. Outlook."], title="10-K")
    encrypt_pdf(path, owner_password="restrict-printing", algorithm=algorithm)
    document = load(path, tmp_path)
    assert document.title == "10-K" and "Revenue grew 12%" in document.pages[0] and len(document.pages) == 2


def test_a_pdf_that_needs_a_password_to_open_is_refused_in_words(tmp_path: Path) -> None:
    path = encrypt_pdf(write_pdf(tmp_path / "board.pdf", ["Confidential."]), "owner", user_password="reader")
    with pytest.raises(UnreadableFileError, match="needs a password to open; save a copy without one"):
        load(path, tmp_path)


def test_a_pdf_without_text_asks_for_ocr(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "scan.pdf", [""])
    with pytest.raises(UnreadableFileError, match="OCR"):
        load(path, tmp_path)


def test_legacy_encodings_are_decoded(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Stratégie générale: la société préfère l'été à l'hiver.".encode("cp1252"))
    assert "Stratégie générale" in load(path, tmp_path).pages[0]


def test_discover_recurses_skips_hidden_and_separates_unsupported(tmp_path: Path) -> None:
    for name in ["a.txt", "deep/er/b.md", "c.HTML", "d.pdf", "e.docx", "f.png", ".hidden.txt",
                 ".git/config.txt", "notes.csv"]:  # fmt: skip
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    supported, unsupported = discover(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in supported] == [
        "a.txt", "c.HTML", "d.pdf", "deep/er/b.md", "e.docx"
    ]  # fmt: skip
    assert sorted(p.name for p in unsupported) == ["f.png", "notes.csv"]
