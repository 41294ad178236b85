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
