"""Reading page images with Tesseract (Debian's ``tesseract-ocr``).

A scanned page has no text layer, so it is rendered with PDFium (already the PDF reader) and read
by Tesseract. ``CITED_OCR=off`` or a machine without Tesseract reads no images: the ingest then
names each page that had no text and what to install (:func:`missing_reason`).

Tesseract is run as pytesseract runs it (the ``tesseract`` command, the image on its standard
input), but with ``OMP_THREAD_LIMIT=1`` in its environment: its OpenMP threads spin against each
other and against the ingest on 2 cores, and one page took 10.8 s with them against 1.4 s without
(the same text). pytesseract passes the process's own environment, and setting the variable there
would also cap the encoder's threads, so the command is called directly.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from functools import cache
from typing import Any

# 200 dpi (`cited bench ocr`, reports/ocr.md): 1.62 s a page (median) with a character error rate of
# 0.23%, against 1.96 s and 0.24% at 300 dpi and 1.34 s and 0.25% at 150, on 11-point print; real
# scans of smaller print lose more at 150.
RENDER_DPI = 200
INSTALL = "install Tesseract (Debian/Ubuntu: apt-get install tesseract-ocr tesseract-ocr-eng)"


class OcrUnavailableError(Exception):
    """Tesseract cannot run here; the message says what to install."""


@cache
def installed_languages() -> frozenset[str]:
    """The languages Tesseract can read here; empty when it is not installed."""
    if shutil.which("tesseract") is None:
        return frozenset()
    try:
        listed = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    lines = (listed.stdout + listed.stderr).splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and " " not in line.strip())


def missing_reason(languages: str) -> str | None:
    """Why OCR in ``languages`` (Tesseract's ``eng+deu`` form) cannot run here, or None if it can."""
    have = installed_languages()
    if not have:
        return f"Tesseract is not installed: {INSTALL}"
    missing = [lang for lang in languages.split("+") if lang and lang not in have]
    if missing:
        packages = " ".join(f"tesseract-ocr-{lang}" for lang in missing)
        return f"Tesseract has no data for {', '.join(missing)}: apt-get install {packages}"
    return None


def read_page(page: Any, languages: str, dpi: int = RENDER_DPI) -> str:
    """The text Tesseract reads on a PDF page (a pypdfium2 page) rendered at ``dpi``."""
    image = page.render(scale=dpi / 72, grayscale=True).to_pil()
    png = io.BytesIO()
    image.save(png, format="PNG")
    # --psm 3: find the page's blocks and read them in order (Tesseract's default, said so that a
    # changed default cannot silently reorder text).
    command = ["tesseract", "stdin", "stdout", "-l", languages, "--psm", "3"]
    try:
        done = subprocess.run(
            command,
            input=png.getvalue(),
            capture_output=True,
            timeout=_PAGE_TIMEOUT_S,
            env=_ENVIRONMENT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise OcrUnavailableError(f"Tesseract is not installed: {INSTALL}") from exc
    except subprocess.TimeoutExpired as exc:
        raise OcrUnavailableError(f"Tesseract took over {_PAGE_TIMEOUT_S} s on the page") from exc
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrUnavailableError(f"Tesseract failed on the page ({said[-1] if said else done.returncode})")
    return unwrapped(done.stdout.decode("utf-8", "replace"))


_PAGE_TIMEOUT_S = 120
_ENVIRONMENT = {**os.environ, "OMP_THREAD_LIMIT": "1"}


_LIST_ITEM = re.compile(r"^\s*(?:[-–—•*·]|\d{1,2}[.)]|[a-z][.)])\s+")


def unwrapped(text: str) -> str:
    """Tesseract's text with each paragraph on one line: it breaks lines where the page did and
    separates paragraphs with a blank line. Read as it comes, every line-end of a paragraph looks
    like the end of a heading to the passage structure (``cited/text/structure.py``), and a word
    hyphenated across lines is two words. List items keep their own lines."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        joined = ""
        for line in lines:
            if not joined:
                joined = line
            elif _LIST_ITEM.match(line):
                joined += "\n" + line
            elif re.search(r"[a-z]-$", joined) and line[:1].islower():
                joined = joined[:-1] + line  # "inter-" + "nal"
            else:
                joined += " " + line
        if joined:
            paragraphs.append(joined)
    return "\n\n".join(paragraphs)
