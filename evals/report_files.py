"""The one way a run writes its report: ``<stem>.json`` (every figure) beside ``<stem>.md`` (the table
a person reads), with the machine it ran on, into a folder outside the checkout unless asked.

Every command that writes a report takes ``--report-dir``; without it the report goes to
``<data dir>/reports`` (``CITED_DATA_DIR``), so a run never dirties the checkout. The reference
reports under ``reports/`` are written there on purpose (``docs/reports.md`` names each
with its command).
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path


def machine(load_before: Sequence[float] | None = None) -> dict[str, object]:
    """What a figure depends on besides Cited: cores, Python, and how busy the machine was before the
    run (``os.getloadavg()`` taken then, when given) and is now."""
    block: dict[str, object] = {}
    if load_before is not None:
        block["load_average_before"] = [round(x, 2) for x in load_before]
    block["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return block | {"cpus": os.cpu_count(), "python": platform.python_version()}


def machine_line(result: Mapping[str, object]) -> str:
    """The Markdown line that says what :func:`machine` recorded."""
    before = f"before {result['load_average_before']}, " if "load_average_before" in result else ""
    return (
        f"Load average (1/5/15 min) {before}after {result['load_average_after']}; "
        f"{result['cpus']} CPUs; Python {result['python']}."
    )


def write_report(
    directory: Path, stem: str, result: Mapping[str, object], markdown: str | Sequence[str]
) -> Path:
    """Writes ``<stem>.json`` and ``<stem>.md`` in ``directory`` (made if missing); the Markdown path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{stem}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    text = markdown if isinstance(markdown, str) else "\n".join(markdown) + "\n"
    path = directory / f"{stem}.md"
    path.write_text(text, encoding="utf-8")
    return path
