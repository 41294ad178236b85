"""``cited bench load``: many clients asking at once, for a fixed time, against a real server.

The server is a separate ``cited serve`` process, so the clients (asyncio, in this process) do not
share its interpreter. Its rate limit is raised for the run (the limit per caller would otherwise
refuse one address sending this many questions), and the report says so. Each client asks the next
question of the set as soon as its previous answer arrives; every response's status and time are
kept. A client refused with 503 waits its ``Retry-After`` before asking again, as a well-behaved client
does. Reported: answered per second, p50/p95/p99 of the accepted (200) answers, and how many of
each status, so the 503s of ``CITED_MAX_IN_FLIGHT`` are counted apart from errors.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from cited.settings import Settings
from evals.live_server import free_port
from evals.metrics import percentile
from evals.report_files import write_report

RAISED_RATE_LIMIT = "100000000/minute"


async def ask_until(
    url: str,
    questions: list[str],
    start: int,
    until: float,
    rows: list[tuple[int, float]],
    headers: dict[str, str] | None = None,
) -> None:
    """One client: the next question as soon as the last answer came, until ``until``; a 503 or 429
    is waited out for its ``Retry-After``. Each response's (status, seconds) goes to ``rows``."""
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as client:
        n = start
        while time.monotonic() < until:
            began = time.perf_counter()
            retry_after = 0.0
            try:
                response = await client.post("/ask", json={"question": questions[n % len(questions)]})
                status = response.status_code
                refused = status in (429, 503)
                retry_after = float(response.headers.get("retry-after", 1)) if refused else 0.0
            except httpx.HTTPError:
                status = 0  # no response at all: a connection error or a timeout
            rows.append((status, time.perf_counter() - began))
            n += 1
            if retry_after:  # as a well-behaved client does; one that does not is refused again at once
                await asyncio.sleep(min(retry_after, max(0.0, until - time.monotonic())))


async def _run(url: str, questions: list[str], clients: int, seconds: float) -> list[tuple[int, float]]:
    rows: list[tuple[int, float]] = []
    until = time.monotonic() + seconds
    await asyncio.gather(*(ask_until(url, questions, i, until, rows) for i in range(clients)))
    return rows


def measure(
    settings: Settings, questions: list[str], clients: int, seconds: float, workers: int = 1
) -> dict[str, object]:
    port = free_port()
    env = {
        **os.environ,
        "CITED_DATA_DIR": str(settings.data_dir),
        "CITED_CORPUS_DIR": str(settings.corpus_dir),
        "CITED_RATE_LIMIT": RAISED_RATE_LIMIT,
        "CITED_UI": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.3)
        # Each question once first, so the run measures a warm server (models and caches loaded), as
        # a reader meets it after the first minutes, not its start.
        for question in dict.fromkeys(questions):
            httpx.post(f"{url}/ask", json={"question": question}, timeout=60)
        rows = run_clients(url, questions, clients, seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return summarize(rows, clients, seconds, settings.max_in_flight, workers)


def summarize(
    rows: list[tuple[int, float]], clients: int, seconds: float, max_in_flight: int, workers: int = 1
) -> dict[str, object]:
    """One run's figures from its (status, seconds) rows; status 0 is no response at all."""
    statuses = Counter(status for status, _ in rows)
    accepted = [t * 1000 for status, t in rows if status == 200]
    return {
        "clients": clients,
        "seconds": seconds,
        "workers": workers,
        "max_in_flight": max_in_flight,
        "requests": len(rows),
        "answered_per_s": round(len(accepted) / seconds, 1),
        "accepted_ms": {
            "p50": round(percentile(accepted, 50), 1) if accepted else None,
            "p95": round(percentile(accepted, 95), 1) if accepted else None,
            "p99": round(percentile(accepted, 99), 1) if accepted else None,
        },
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": sum(v for k, v in statuses.items() if k not in (200, 503)),
    }


def run_clients(url: str, questions: list[str], clients: int, seconds: float) -> list[tuple[int, float]]:
    """``clients`` asking ``url`` at once for ``seconds``: every response's (status, seconds)."""
    return asyncio.run(_run(url, questions, clients, seconds))


def report(
    runs: list[dict[str, object]], corpus: Path, reports: Path, workers: int = 1, label: str | None = None
) -> dict[str, object]:
    """Write ``load-bench[-label].{json,md}``."""
    store = "Chroma server" if Settings().chroma_host else "embedded store"
    result: dict[str, object] = {
        "command": "cited bench load",
        "corpus": str(corpus),
        "store": store,
        "rate_limit": f"raised to {RAISED_RATE_LIMIT} for the run",
        "workers": workers,
        "runs": runs,
    }
    reports.mkdir(parents=True, exist_ok=True)
    name = "load-bench" if label is None else f"load-bench-{label}"
    lines = [
        f"# Load: many clients at once, {workers} worker{'s' if workers > 1 else ''}",
        "",
        f"Command: `cited bench load` on `{corpus}` ({store}); the rate limit was {result['rate_limit']}; "
        f"extractive answers; {workers} `cited serve` worker{'s' if workers > 1 else ''} on 2 cores; "
        "one run.",
        "",
        "| clients | seconds | in-flight bound | requests | answered/s | p50 ms | p95 ms | p99 ms | statuses "
        "| errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in runs:
        ms = r["accepted_ms"]
        lines.append(
            f"| {r['clients']} | {r['seconds']} | {r['max_in_flight']} | {r['requests']} "
            f"| {r['answered_per_s']} | {ms['p50']} | {ms['p95']} | {ms['p99']} "  # type: ignore[index]
            f"| {r['statuses']} | {r['errors']} |"
        )
    write_report(reports, name, result, lines)
    return result
