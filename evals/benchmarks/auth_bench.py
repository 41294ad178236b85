"""`cited bench auth`: what access control costs a question, on a kept store at full size.

Three servers in this process over the same store (``cited bench ingest --keep``), each a real
uvicorn on loopback: auth off; auth on, as shipped (dense search over-fetches unfiltered and keeps
what the caller's groups may read); and auth on with ``CITED_GROUP_OVERFETCH=0`` (the Chroma
``where`` on group flags that Cited used before). Every question goes to all three, in an order that
rotates question by question, so the machine's drift touches each alike. The key reads every
document (the default group), the case where the filter has the most chunks to check.
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


def measure(store: Settings, questions: list[str], reports: Path) -> dict[str, object]:
    load_before = os.getloadavg()
    base = store.model_copy(update={"rate_limit": UNLIMITED, "ui": False})
    key = KeyStore(open_database(base)).add("bench-auth", list(base.default_groups), ["ask"])[1]
    configs = {
        "auth off": (base, {}),
        "auth on (over-fetch, shipped)": (
            base.model_copy(update={"auth": True}),
            {"Authorization": f"Bearer {key}"},
        ),
        "auth on (Chroma where, before)": (
            base.model_copy(update={"auth": True, "group_overfetch": 0}),
            {"Authorization": f"Bearer {key}"},
        ),
    }
    times, retrieve, _ = interleaved(configs, questions, configured_embedder(base))
    off = statistics.median(times["auth off"])
    result: dict[str, object] = {
        "command": "cited bench auth",
        "store": str(
            store.data_dir if store.chroma_host is None else f"{store.chroma_host}:{store.chroma_port}"
        ),
        "questions": len(questions),
        "configs": {
            name: {
                "median_ms": round(statistics.median(values), 1),
                "p95_ms": round(percentile(values, 95), 1),
                "retrieve_median_ms": round(statistics.median(retrieve[name]), 1),
                "ratio_to_off": round(statistics.median(values) / off, 3),
            }
            for name, values in times.items()
        },
        **machine(load_before),
    }
    lines = [
        "# What auth costs a question",
        "",
        f"`cited bench auth` on `{result['store']}`: {len(questions)} questions, each to all three servers "
        "(rotating order), POST /ask over loopback HTTP, extractive answers; the key reads every document.",
        "",
        "| server | median ms | p95 ms | retrieval median ms | median ÷ auth off |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in result["configs"].items():  # type: ignore[attr-defined]
        lines.append(
            f"| {name} | {row['median_ms']} | {row['p95_ms']} | {row['retrieve_median_ms']} "
            f"| {row['ratio_to_off']} |"
        )
    lines += [
        "",
        machine_line(result),
    ]
    write_report(reports, "auth-bench", result, lines)
    return result
