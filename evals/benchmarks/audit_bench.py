"""`cited bench audit`: what the audit trail costs a question, side by side with it off.

Three servers in this process over the same freshly ingested corpus, each a real uvicorn on loopback
with auth on and one key: `CITED_AUDIT=off`, `metadata` (the default) and `full`. Every question
goes to all three in a rotating order (``evals/benchmarks/side_by_side.py``). Reported: median and
p95 of POST /ask, and each median divided by the one with auditing off (target: ≤ 1.1), with the
records each server wrote, to show it did write them.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from cited.access.keys import KeyStore
from cited.database.engine import open_database
from cited.models.embedding import configured_embedder
from cited.settings import Settings
from evals.benchmarks.side_by_side import interleaved
from evals.metrics import percentile
from evals.report_files import machine, machine_line, write_report

UNLIMITED = "1000000/minute"  # questions are sent back to back: this measures answering, not the limiter


def measure(store: Settings, questions: list[str], rounds: int, reports: Path) -> dict[str, object]:
    load_before = os.getloadavg()
    base = store.model_copy(update={"rate_limit": UNLIMITED, "ui": False, "auth": True})
    key = KeyStore(open_database(base)).add("bench-audit", list(base.default_groups), ["ask"])[1]
    headers = {"Authorization": f"Bearer {key}"}
    configs = {
        mode: (base.model_copy(update={"audit": mode, "machine_name": f"bench-{mode}"}), headers)
        for mode in ("off", "metadata", "full")
    }
    asked = questions * rounds
    times, _, servers = interleaved(configs, asked, configured_embedder(base))
    off = statistics.median(times["off"])
    result: dict[str, object] = {
        "command": "cited bench audit",
        "corpus": str(store.corpus_dir),
        "questions": len(asked),
        "configs": {
            mode: {
                "median_ms": round(statistics.median(values), 2),
                "p95_ms": round(percentile(values, 95), 2),
                "ratio_to_off": round(statistics.median(values) / off, 3),
                "records_written": sum(
                    r.machine == f"bench-{mode}" for r in servers[mode].components.audit.records()
                ),
            }
            for mode, values in times.items()
        },
        **machine(load_before),
    }
    lines = [
        "# What the audit trail costs a question",
        "",
        f"`cited bench audit` on `{store.corpus_dir}`: {len(asked)} questions ({len(questions)} questions "
        f"× {rounds}), each to all three servers (rotating order), POST /ask over loopback HTTP with "
        "auth on (one key), extractive answers, one run. `records` is what each server put on the "
        "audit trail.",
        "",
        "| CITED_AUDIT | median ms | p95 ms | median ÷ off | records |",
        "|---|---:|---:|---:|---:|",
    ]
    for mode, row in result["configs"].items():  # type: ignore[attr-defined]
        lines.append(
            f"| {mode} | {row['median_ms']} | {row['p95_ms']} | {row['ratio_to_off']} "
            f"| {row['records_written']} |"
        )
    lines += ["", machine_line(result)]
    write_report(reports, "audit-bench", result, lines)
    return result
