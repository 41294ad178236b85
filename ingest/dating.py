"""When a document is from: its ``document_date``, shown with its citations.

In order of trust: a date in its opening lines (a dateline, "Published 3 March 2023"), the date its
PDF or DOCX properties record it was made, and, as a last resort, the file's own modification date.
Each comes with where it was read (``text``, ``properties`` or ``file``), so a reader can weigh a
file date for what it is. Dates are read by pattern, as ``cited/text/features.py`` reads them, not
by dateparser: the opening lines are few, and the forms that open a document are few too.
"""

from __future__ import annotations

import datetime as dt
import re

_OPENING_CHARS = 600
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ),
        1,
    )
    for name in names
}  # fmt: skip
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_PATTERNS = (
    re.compile(rf"\b{_YEAR}-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),
    re.compile(rf"\b(?P<month>{_MONTH})\.?\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_DAY}\s+(?P<month>{_MONTH})\.?,?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b(?P<month>{_MONTH})\.?\s+{_YEAR}\b", re.IGNORECASE),
)


def date_in_text(text: str) -> str | None:
    """The first full date (or month and year) in ``text``'s opening lines, as ISO 8601."""
    opening = text[:_OPENING_CHARS]
    found: list[tuple[int, str]] = []
    for pattern in _PATTERNS:
        match = pattern.search(opening)
        if match is None:
            continue
        month = match.group("month")
        number = int(month) if month.isdigit() else _MONTHS[month.lower()]
        day = match.groupdict().get("day")
        try:
            if day:
                iso = dt.date(int(match.group("year")), number, int(day)).isoformat()
            else:
                iso = f"{int(match.group('year')):04d}-{number:02d}"
                dt.date(int(match.group("year")), number, 1)
        except ValueError:
            continue  # "February 30th 2023" is no date
        found.append((match.start(), iso))
    return min(found)[1] if found else None


def pdf_date(raw: str | None) -> str | None:
    """A PDF's ``CreationDate`` ("D:20200123104500+08'00'") as ISO 8601."""
    match = re.match(r"(?:D:)?(\d{4})(\d{2})?(\d{2})?", (raw or "").strip())
    if match is None:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    try:
        return dt.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def document_date(
    opening: str, properties: str | None, modified_s: float | None
) -> tuple[str, str] | tuple[None, None]:
    """(date, where it was read): from the opening text, the file's properties, or its own date."""
    if found := date_in_text(opening):
        return found, "text"
    if properties:
        return properties, "properties"
    if modified_s is not None:
        return dt.datetime.fromtimestamp(modified_s, tz=dt.UTC).date().isoformat(), "file"
    return None, None
