"""`cited bench machines`: 64 clients for 60 s over two `cited serve` machines sharing one Chroma server,
one PostgreSQL and one Redis, as an organisation runs Cited behind a load balancer.

Everything is real and on this one machine's loopback: `chroma run`, Debian's PostgreSQL and Redis
(``evals/local_services.py``), two `cited serve` processes with their own data directories, auth on.
Each client is a person with a key of their own (made in PostgreSQL through machine A's stores),
asks the next question as soon as its answer arrives, and is sent to A or B in turn, as a
round-robin balancer would. The rate limit is Cited's default (120 a minute per key, counted in
Redis) and the audit trail is on (`metadata`). Reported: every status (only 200, and the documented
503 and 429, are acceptable), answers per second, and p50/p95/p99 of the 200s (target p95 ≤ 1 s).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx

from cited.access.keys import KeyStore
from cited.database.engine import open_database
from cited.models.embedding import configured_embedder
from cited.operations.metrics import Metrics
from cited.settings import Settings
from cited.store.chunk_store import open_store
from evals.benchmarks.load_bench import ask_until, summarize
from evals.live_server import free_port
from evals.local_services import running_chroma, running_postgres, running_redis, wait_until_up
from evals.report_files import machine, machine_line, write_report
from ingest.sync import Ingestor
from service.audit import AuditTrail


async def _run(
    urls: list[str], keys: list[str], questions: list[str], seconds: float
) -> list[tuple[int, float]]:
    rows: list[tuple[int, float]] = []
    until = time.monotonic() + seconds
    await asyncio.gather(
        *(
            ask_until(urls[i % len(urls)], questions, i, until, rows, {"Authorization": f"Bearer {key}"})
            for i, key in enumerate(keys)
        )
    )
    return rows


def measure(
    corpus: Path, questions: list[str], clients: int, seconds: float, reports: Path
) -> dict[str, object]:
    load_before = os.getloadavg()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cited-machines-")))
        chroma, _ = stack.enter_context(running_chroma(tmp / "chroma"))
        postgres = stack.enter_context(running_postgres())
        redis = stack.enter_context(running_redis(tmp / "redis"))
        shared = {"chroma_host": chroma.host, "chroma_port": chroma.port, "collection": "cited-bench"}
        first = Settings(data_dir=tmp / "ingest", corpus_dir=corpus, **shared)  # type: ignore[arg-type]
        report = Ingestor(first, configured_embedder(first), open_store(first)).run(corpus)
        if not report.ok:
            raise RuntimeError(f"ingest of {corpus} failed: {report.failed}")
        env = {
            **os.environ, **chroma.env("cited-bench"), "CITED_AUTH": "true", "CITED_UI": "false",
            "CITED_DATABASE_URL": postgres.url, "CITED_RATE_LIMIT_STORAGE": redis.url,
            "CITED_CORPUS_DIR": str(corpus), "CITED_AUDIT": "metadata",
        }  # fmt: skip
        urls = []
        for name in ("machine-a", "machine-b"):
            port = free_port()
            log = tmp / f"{name}.log"
            out = stack.enter_context(log.open("wb"))
            serve = ["serve", "--port", str(port), "--data-dir", str(tmp / name)]
            process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", *serve],
                env={**env, "CITED_MACHINE_NAME": name}, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            stack.callback(process.wait, 30)
            stack.callback(process.terminate)
            urls.append(f"http://127.0.0.1:{port}")
            wait_until_up(f"{urls[-1]}/health", process, time.monotonic() + 180, log)
        keys_store = KeyStore(open_database(Settings(data_dir=tmp / "machine-a", database_url=postgres.url)))
        keys = [keys_store.add(f"person-{n}", ["everyone"], ["ask"])[1] for n in range(clients)]
        for url in urls:  # warm: each machine answers each question once before the clock starts
            for question in dict.fromkeys(questions):
                httpx.post(f"{url}/ask", json={"question": question}, timeout=60,
                           headers={"Authorization": f"Bearer {keys[0]}"})  # fmt: skip
        rows = asyncio.run(_run(urls, keys, questions, seconds))
        time.sleep(5)  # each machine's audit writer empties its queue
        trail = AuditTrail(keys_store.database, "metadata", 365, Metrics())
        audited = Counter(r.machine for r in trail.records())
    run = summarize(rows, clients, seconds, Settings().max_in_flight, workers=2)
    statuses = {int(k) for k in run["statuses"]}  # type: ignore[attr-defined]
    # Here 429 is a documented answer too (a key past its limit), not an error.
    run["errors"] = sum(v for k, v in run["statuses"].items() if int(k) not in (200, 429, 503))  # type: ignore[attr-defined]
    result: dict[str, object] = {
        "command": "cited bench machines",
        "corpus": str(corpus),
        "layout": "2 cited serve + chroma run + PostgreSQL + Redis, all on this machine's loopback",
        "rate_limit": "default (120/minute per key), one key per client, counted in Redis",
        "run": run,
        "only_documented_statuses": statuses <= {200, 429, 503},
        "p95_within_1s": (run["accepted_ms"]["p95"] or 1e9) <= 1000,  # type: ignore[index]
        "audited_by_machine": dict(audited),
        **machine(load_before),
    }
    ms = run["accepted_ms"]
    lines = [
        "# Two machines under load",
        "",
        f"`cited bench machines`: {clients} clients for {seconds:g} s, each with its own key, sent to two "
        "`cited serve` machines in turn; both share one `chroma run`, one PostgreSQL and one Redis, all on "
        f"this 2-core machine's loopback (with the clients). Corpus `{corpus}`; extractive answers; auth on; "
        "audit trail on; Cited's default rate limit. One run.",
        "",
        "| clients | seconds | requests | answered/s | p50 ms | p95 ms | p99 ms | statuses "
        "| other statuses |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|",
        f"| {clients} | {seconds:g} | {run['requests']} | {run['answered_per_s']} | {ms['p50']} "  # type: ignore[index]
        f"| {ms['p95']} | {ms['p99']} | {run['statuses']} | {run['errors']} |",  # type: ignore[index]
        "",
        f"Only 200 and the documented 429/503: {result['only_documented_statuses']}. "
        f"p95 of the 200s ≤ 1 s: {result['p95_within_1s']}. Audit records by machine: {dict(audited)}.",
        "",
        machine_line(result),
    ]
    write_report(reports, "two-machines", result, lines)
    return result
