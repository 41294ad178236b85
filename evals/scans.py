"""Scans made from text: a document typeset as a PDF (fpdf2), each page rendered to a picture by
PDFium and put into a new PDF with no text layer, as a scanner makes it. The OCR bench and the tests
read them; nothing of the kind is committed.
"""

from __future__ import annotations

from pathlib import Path

# Debian's fonts-dejavu-core: curly quotes and guillemets (Chinese names still fall back to boxes).
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
SCAN_DPI = 300  # an office scanner's usual resolution


def typeset(text: str) -> tuple[bytes, str]:
    """``text`` as a PDF, and the text as it was typeset (what a font without a glyph could not
    print is replaced, so a reading is compared with what is on the page)."""
    from fpdf import FPDF

    pdf = FPDF()
    if DEJAVU.exists():
        pdf.add_font("dejavu", fname=str(DEJAVU))
        pdf.set_font("dejavu", size=11)
    else:
        pdf.set_font("helvetica", size=11)
        text = text.encode("latin-1", "replace").decode("latin-1")
    pdf.add_page()
    pdf.multi_cell(0, 6, text)
    return bytes(pdf.output()), text


def scan_of(pdf: bytes, out: Path, dpi: int = SCAN_DPI) -> Path:
    """Each page of ``pdf`` as a picture in a new PDF with no text layer."""
    import pypdfium2 as pdfium
    from fpdf import FPDF

    document = pdfium.PdfDocument(pdf)
    scan = FPDF(unit="pt")
    try:
        for number in range(len(document)):
            page = document[number]
            width, height = page.get_size()
            scan.add_page(format=(width, height))
            scan.image(page.render(scale=dpi / 72, grayscale=True).to_pil(), x=0, y=0, w=width, h=height)
            page.close()
    finally:
        document.close()
    scan.output(str(out))
    return out


def scan_of_text(text_file: Path, out: Path, dpi: int = SCAN_DPI) -> Path:
    return scan_of(typeset(text_file.read_text(encoding="utf-8"))[0], out, dpi)
