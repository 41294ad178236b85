"""Real files of each supported format, written with the same libraries people use to make them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cited.settings import Settings


def write_pdf(path: Path, pages: list[str], title: str | None = None, created: object = None) -> Path:
    """``created``: a datetime for the PDF's CreationDate property."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if created is not None:
        pdf.set_creation_date(created)
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def write_table_pdf(path: Path, before: str, rows: list[tuple[str, ...]], after: str | None = None) -> Path:
    """A page of 10-point text: a paragraph, a table drawn by fpdf2 (first row its headings), and
    optionally a paragraph after it."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    pdf.multi_cell(0, 5, before)
    with pdf.table(col_widths=(50, 30, 30, 40)) as table:
        for row in rows:
            cells = table.row()
            for cell in row:
                cells.cell(cell)
    if after:
        pdf.multi_cell(0, 5, after)
    pdf.output(str(path))
    return path


def encrypt_pdf(path: Path, owner_password: str, user_password: str = "", algorithm: str = "AES-256") -> Path:
    """``path`` encrypted in place as pypdf does it; an empty ``user_password`` gives the common
    owner-password-only PDF, which opens without a password but restricts printing and copying."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(path))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm=algorithm)
    writer.write(path)
    return path


def write_docx(path: Path, title: str, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)  # level 0 is the "Title" style
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.add_paragraph("A closing paragraph after the table.")
    document.save(str(path))
    return path


# A corpus with a restricted document: the project corpus plus a board paper only `board` reads.
BOARD_DOC = "board/acquisition-plan.txt"
BOARD_TEXT = (
    "Project Heron board paper\n\n"
    "The board approved the acquisition of Lumenfield Robotics for 2.4 billion dollars on March 3rd. "
    "Closing is planned for the fourth quarter, subject to regulatory approval in Singapore. "
    "The deal will be announced to employees only after the signing ceremony in Hangzhou. "
    "Until then, the codename Heron must not appear in any email or DingTalk message.\n\n"
    "Risks\n\n"
    "The main risk is that Lumenfield's two largest customers may end their contracts after the takeover. "
    "A retention bonus of 18 million dollars is reserved for Lumenfield's engineering team.\n"
)
ACCESS = '"board/*": [board]\n'


def write_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    shutil.copytree(Path(__file__).resolve().parent.parent / "corpus", corpus)
    (corpus / "board").mkdir()
    (corpus / BOARD_DOC).write_text(BOARD_TEXT, encoding="utf-8")
    (corpus / "access.yaml").write_text(f"paths:\n  {ACCESS}", encoding="utf-8")
    return corpus


def ingest_with_auth(root: Path) -> Settings:
    """Settings with auth on over a fresh copy of that corpus, ingested for real."""
    from cited.models.embedding import configured_embedder
    from cited.settings import Settings
    from cited.store.chunk_store import open_store
    from ingest.sync import Ingestor

    corpus = write_corpus(root)
    settings = Settings(data_dir=root / "data", corpus_dir=corpus, auth=True)
    embedder = configured_embedder(settings)  # the process's one MiniLM
    Ingestor(settings, embedder, open_store(settings)).run(corpus)
    return settings


def write_pptx(
    path: Path,
    slides: list[tuple[str, list[str]]],
    table: tuple[int, list[list[str]]] | None = None,
    notes: dict[int, str] | None = None,
    grouped: dict[int, list[str]] | None = None,
) -> Path:
    """A deck with python-pptx: each slide a title and a text box of paragraphs; ``table`` (slide
    index, grid) adds a table, ``notes`` speaker notes, ``grouped`` a group of two text boxes."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    deck = Presentation()
    layout = deck.slide_layouts[5]  # "Title Only": a title placeholder and free space
    for index, (title, paragraphs) in enumerate(slides):
        slide = deck.slides.add_slide(layout)
        slide.shapes.title.text = title
        if paragraphs:
            box = slide.shapes.add_textbox(Inches(0.5), Inches(1.6), Inches(9), Inches(5)).text_frame
            box.word_wrap = True
            box.text = paragraphs[0]
            for paragraph in paragraphs[1:]:
                box.add_paragraph().text = paragraph
            for paragraph in box.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(12)
        if table is not None and table[0] == index:
            grid = table[1]
            shape = slide.shapes.add_table(
                len(grid), len(grid[0]), Inches(0.5), Inches(4.5), Inches(9), Inches(2)
            )
            for r, row in enumerate(grid):
                for c, value in enumerate(row):
                    shape.table.cell(r, c).text = value
        if grouped and index in grouped:
            group = slide.shapes.add_group_shape()
            for offset, text in enumerate(grouped[index]):
                group.shapes.add_textbox(
                    Inches(0.5 + 4.5 * offset), Inches(6.5), Inches(4), Inches(0.5)
                ).text = text
        if notes and index in notes:
            slide.notes_slide.notes_text_frame.text = notes[index]
    deck.save(str(path))
    return path


def sections(text: str, title: str) -> list[tuple[str, list[str]]]:
    """A text's sections: each heading (a short line with no closing punctuation, followed by a
    longer paragraph) and its paragraphs; text before the first heading goes under ``title``."""
    blocks = [block.strip() for block in text.split("\n") if block.strip()]
    found: list[tuple[str, list[str]]] = []
    for i, block in enumerate(blocks):
        following = blocks[i + 1] if i + 1 < len(blocks) else ""
        heading = (
            len(block) <= 80
            and not block.endswith((".", "!", "?", ":", ";", ","))
            and not block.startswith(("–", "-", "•"))
            and len(following) > len(block)
        )
        if heading:
            found.append((block, []))
        else:
            if not found:
                found.append((title, []))
            found[-1][1].append(block)
    return found


def deck_from_text(text_file: Path, out: Path) -> Path:
    """The text made into a deck, one slide per section (the file's name titles the first slide
    when the text opens with no heading)."""
    title = text_file.stem.replace("-", " ")
    return write_pptx(out, sections(text_file.read_text(encoding="utf-8"), title))


def image_pdf_from_text(text_file: Path, out: Path) -> Path:
    """The text typeset, each page rendered to a picture and put into a PDF with no text layer: a
    scan of the document (``evals/scans.py``)."""
    from evals.scans import scan_of_text

    return scan_of_text(text_file, out)
