"""Prometheus metrics (prometheus-client): what an operator watches, never what the documents say.

Labels are route templates, methods, status codes, step names and modes: none carries a question,
a document name or any text. Each app has its own registry, so several apps in one process (the
tests) do not collide. With several workers (``cited serve --workers N``), ``PROMETHEUS_MULTIPROC_DIR``
is set before they start and ``/metrics`` sums what every worker wrote there (the library's
multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Quoted answers take tens of milliseconds, generated ones seconds.
_SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "cited_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "cited_request_seconds", "Time to the response's first byte, by route.", ["route"],
            buckets=_SECONDS, registry=r,
        )  # fmt: skip
        self.step_seconds = Histogram(
            "cited_answer_step_seconds", "Time in each step of an answer (retrieve, select, generate, ...).",
            ["step"], buckets=_SECONDS, registry=r,
        )  # fmt: skip
        self.answers = Counter(
            "cited_answers", "Answers by mode (quoted, generated) and outcome (answered, abstained).",
            ["mode", "outcome"], registry=r,
        )  # fmt: skip
        self.withheld_sentences = Counter(
            "cited_withheld_sentences", "Generated sentences withheld: their citations do not back them.",
            registry=r,
        )  # fmt: skip
        self.in_flight = Gauge(
            "cited_answers_in_flight", "Answers in progress (CITED_MAX_IN_FLIGHT bounds them).",
            registry=r, multiprocess_mode="livesum",
        )  # fmt: skip
        self.refused_busy = Counter(
            "cited_answers_refused_busy", "Answers refused with 503: CITED_MAX_IN_FLIGHT were in progress.",
            registry=r,
        )  # fmt: skip
        self.audit_write_failures = Counter(
            "cited_audit_write_failures", "Audit records not written (database down, or the queue full).",
            registry=r,
        )  # fmt: skip
        self.ingested_documents = Counter(
            "cited_ingest_documents", "Documents added or replaced through this server (uploads).", registry=r
        )
        self.ingested_chunks = Counter(
            "cited_ingest_chunks", "Chunks embedded and stored by uploads.", registry=r
        )

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes: this process's metrics, or every worker's summed."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            merged = CollectorRegistry()
            MultiProcessCollector(merged)
            return generate_latest(merged)
        return generate_latest(self.registry)
