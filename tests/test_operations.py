"""What an operator sees: Prometheus metrics at /metrics and a request id on every response."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from evals.live_server import LiveServer, free_port
from evals.local_services import wait_until_up
from tests.conftest import CORPUS, HR_DOC, ROOT
from tests.forked_cli import ForkedCommand


def scrape(client: httpx.Client, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_move_with_real_requests_and_carry_no_document_text(http: httpx.Client) -> None:
    before = scrape(http)
    answered = http.post("/ask", json={"question": "Which platform hosted the online karaoke?"})
    abstained = http.post("/ask", json={"question": "How do I book a meeting room?"})
    closest = http.post(
        "/ask", json={"question": "Which domestic competitors are putting pressure on Alibaba?"}
    )
    assert answered.status_code == abstained.status_code == closest.status_code == 200
    assert abstained.json()["outcome"] == "not_found" and closest.json()["outcome"] == "closest"
    assert http.post("/ask", json={"question": ""}).status_code == 422
    after = scrape(http)
    raw = http.get("/metrics").text

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("cited_requests_total", route="/ask", method="POST", status="200") == 3
    assert moved("cited_requests_total", route="/ask", method="POST", status="422") == 1
    assert moved("cited_answers_total", mode="quoted", outcome="answered") == 1
    assert moved("cited_answers_total", mode="quoted", outcome="not_found") == 1
    assert moved("cited_answers_total", mode="quoted", outcome="closest") == 1
    assert moved("cited_request_seconds_count", route="/ask") == 4
    assert moved("cited_answer_step_seconds_count", step="retrieve") == 3
    assert value(after, "cited_answers_in_flight") == 0
    # Nothing of the documents or the questions: labels are routes, statuses, steps and modes.
    document_words = set(re.findall(r"[A-Za-z]{7,}", (CORPUS / HR_DOC).read_text(encoding="utf-8")))
    exposed = set(re.findall(r"[A-Za-z]{7,}", raw))
    assert not {"DingTalk", "karaoke", "capital", "France"} & exposed
    assert len(document_words & exposed) < 5, document_words & exposed  # only generic words overlap


def test_every_response_carries_a_request_id_its_own_or_the_callers(http: httpx.Client) -> None:
    fresh = http.get("/health").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", fresh) and fresh != http.get("/health").headers["x-request-id"]
    assert http.get("/health", headers={"X-Request-ID": "proxy-7f3a"}).headers["x-request-id"] == "proxy-7f3a"
    refused = http.post("/ask", json={"question": ""}, headers={"X-Request-ID": "bad id\twith tabs"})
    assert refused.status_code == 422 and re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])


@pytest.mark.processes
def test_json_logs_carry_the_request_id_of_each_line(served_corpus: Path, tmp_path: Path) -> None:
    """A real `cited serve` (forked, tests/forked_cli.py) with CITED_LOG_FORMAT=json."""
    shutil.copytree(served_corpus / "data", tmp_path / "data")
    port = free_port()
    env = {**os.environ, "CITED_LOG_FORMAT": "json", "CITED_UI": "false",
           "CITED_CORPUS_DIR": str(served_corpus / "corpus")}  # fmt: skip
    log = tmp_path / "serve.log"
    server = ForkedCommand(
        ["serve", "--port", str(port), "--data-dir", str(tmp_path / "data")], env, ROOT, log
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", server, time.monotonic() + 120, log)
        answered = httpx.post(
            f"http://127.0.0.1:{port}/ask", json={"question": "Who led the working group?"},
            headers={"X-Request-ID": "trace-4711"}, timeout=60,
        )  # fmt: skip
        assert answered.headers["x-request-id"] == "trace-4711"
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = [
        json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")
    ]
    assert lines and all({"time", "level", "logger", "request_id", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "uvicorn.access" and "/ask" in line["message"]]
    assert [line["request_id"] for line in access] == ["trace-4711"]


@pytest.mark.slow  # a benchmark: concurrent clients for seconds
def test_the_load_bench_counts_every_status_and_times_only_accepted_answers(
    server: LiveServer, tmp_path: Path
) -> None:
    """`cited bench load`'s clients against the session's real server: more clients than its
    in-flight bound, so 503s may come; every request is counted under its status, none is an
    error, and the report's table shows the run."""
    from evals.benchmarks.load_bench import report, run_clients, summarize

    questions = [
        "Who is the CEO of Alibaba?",
        "What is the capital of France?",
        "When was the emergency group formed?",
    ]
    clients = server.components.settings.max_in_flight + 4
    started = time.monotonic()
    rows = run_clients(server.url, questions, clients, seconds=2)
    assert time.monotonic() - started < 30
    run = summarize(rows, clients, 2, server.components.settings.max_in_flight)
    statuses: dict[str, int] = run["statuses"]  # type: ignore[assignment]
    assert sum(statuses.values()) == run["requests"] == len(rows) >= clients
    assert run["errors"] == 0 and set(statuses) <= {"200", "503"} and statuses["200"] > 0
    latency: dict[str, float] = run["accepted_ms"]  # type: ignore[assignment]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
    report([run], Path("corpus"), tmp_path, label="test")
    table = (tmp_path / "load-bench-test.md").read_text(encoding="utf-8")
    assert f"| {clients} | 2 | {server.components.settings.max_in_flight} | {len(rows)} |" in table
