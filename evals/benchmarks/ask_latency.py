"""Latency of POST /ask over real HTTP, question by question, against a freshly ingested corpus.

Run: ``cited bench ask`` (``make bench``); writes ask-latency.{json,md} under --report-dir.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from cited.settings import Settings
from evals.live_server import LiveServer
from evals.metrics import percentile
from evals.questions import Question
from evals.report_files import machine, machine_line, write_report


def measure(settings: Settings, questions: list[Question], rounds: int, reports: Path) -> dict[str, object]:
    load_before = os.getloadavg()
    # A latency benchmark sends questions back to back: it measures answering, not the rate limiter.
    unlimited = settings.model_copy(update={"rate_limit": "1000000/minute"})
    with LiveServer(unlimited) as server, server.client() as client:
        first = time.perf_counter()
        client.post("/ask", json={"question": questions[0].question}).raise_for_status()
        first_ms = (time.perf_counter() - first) * 1000
        wall: list[float] = []
        steps: dict[str, list[float]] = {}
        for _ in range(rounds):
            for q in questions:
                started = time.perf_counter()
                response = client.post("/ask", json={"question": q.question})
                wall.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                for step, ms in response.json()["timings_ms"].items():
                    steps.setdefault(step, []).append(ms)
    result: dict[str, object] = {
        "requests": len(wall),
        "distinct_questions": len(questions),
        "rounds": rounds,
        "first_request_ms": round(first_ms, 1),
        "http_ms": {
            "median": round(statistics.median(wall), 1),
            "p95": round(percentile(wall, 95), 1),
            "max": round(max(wall), 1),
        },
        "server_step_median_ms": {k: round(statistics.median(v), 1) for k, v in steps.items()},
        **machine(load_before),
    }
    http = result["http_ms"]
    assert isinstance(http, dict)
    write_report(
        reports,
        "ask-latency",
        result,
        "# POST /ask latency\n\n"
        "Command: `cited bench ask` (real HTTP to uvicorn on 127.0.0.1;"
        " corpus/ ingested into a temporary store)\n\n"
        f"- requests: {result['requests']} ({result['distinct_questions']} questions x {rounds} rounds;"
        " later rounds hit the sentence-vector cache)\n"
        f"- first request after start: {result['first_request_ms']} ms\n"
        f"- median {http['median']} ms, p95 {http['p95']} ms, max {http['max']} ms\n"
        f"- server-side step medians: {result['server_step_median_ms']}\n"
        f"- {machine_line(result)}\n",
    )
    return result
