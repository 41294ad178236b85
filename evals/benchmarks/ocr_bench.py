"""``cited bench ocr``: how fast Tesseract reads a scanned page here, and how well.

Each document of the corpus is typeset, scanned at 300 dpi (``evals/scans.py``) and read back page
by page as the ingest reads a scan (``ingest/ocr.py``), rendered at each resolution measured. The
character error rate is the edit distance (rapidfuzz's Levenshtein) between what was read and what
was typeset, whitespace collapsed, over the typeset text's length.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from evals.report_files import machine, machine_line, write_report
from evals.scans import scan_of, typeset

RESOLUTIONS = (150, 200, 300)


def _flat(text: str) -> str:
    return " ".join(text.split())


def measure(corpus: Path, reports: Path, resolutions: Sequence[int] = RESOLUTIONS) -> dict[str, object]:
    import pypdfium2 as pdfium
    from rapidfuzz.distance import Levenshtein

    from ingest import ocr

    load_before = os.getloadavg()
    sources = sorted(p for p in corpus.iterdir() if p.suffix in {".txt", ".md"})
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="cited-ocr-") as folder:
        scans = []
        for source in sources:
            pdf, printed = typeset(source.read_text(encoding="utf-8"))
            scans.append((source.name, scan_of(pdf, Path(folder) / f"{source.stem}.pdf"), printed))
        for dpi in resolutions:
            seconds: list[float] = []
            errors = 0
            characters = 0
            for _, path, printed in scans:
                document = pdfium.PdfDocument(path)
                read = []
                for number in range(len(document)):
                    page = document[number]
                    started = time.perf_counter()
                    read.append(ocr.read_page(page, "eng", dpi))
                    seconds.append(time.perf_counter() - started)
                    page.close()
                document.close()
                truth = _flat(printed)
                errors += Levenshtein.distance(_flat("\n\n".join(read)), truth)
                characters += len(truth)
            rows.append(
                {
                    "dpi": dpi,
                    "pages": len(seconds),
                    "seconds_per_page_median": round(statistics.median(seconds), 2),
                    "seconds_per_page_max": round(max(seconds), 2),
                    "pages_per_second": round(len(seconds) / sum(seconds), 3),
                    "character_error_rate": round(errors / characters, 4),
                }
            )
    result: dict[str, object] = {
        "documents": [name for name, _, _ in scans],
        "shipped_dpi": ocr.RENDER_DPI,
        "resolutions": rows,
        **machine(load_before),
    }
    lines = [
        "# OCR: Tesseract on scanned pages",
        "",
        "Command: `cited bench ocr` (the corpus typeset, scanned at 300 dpi with no text layer, read back "
        f"page by page as the ingest reads a scan; the ingest renders at {ocr.RENDER_DPI} dpi). Character "
        "error rate: Levenshtein distance to the typeset text, whitespace collapsed, over its length.",
        "",
        "| render dpi | pages | s/page (median) | s/page (max) | pages/s | character error rate |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['dpi']} | {row['pages']} | {row['seconds_per_page_median']} "
            f"| {row['seconds_per_page_max']} | {row['pages_per_second']} | {row['character_error_rate']} |"
        )
    lines += ["", machine_line(result)]
    write_report(reports, "ocr", result, lines)
    return result
