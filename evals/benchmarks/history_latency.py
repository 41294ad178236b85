"""``cited bench history``: POST /ask with and without ``history``, over the SQuAD 2.0 articles.

The articles are ingested into a temporary store and served over real HTTP. Every question is asked
twice, back to back: alone, then with the article's previous question and the answer it got as one
earlier turn (what the page and ``/v1/chat/completions`` send). The sentence-vector cache is emptied
before each request, so neither is helped by the other. A question that leans on the earlier turn
is searched with its context; the share that did is reported, with both medians and their ratio.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from cited.settings import Settings
from evals.answer_training import ingest_into
from evals.live_server import LiveServer
from evals.metrics import percentile
from evals.report_files import machine, machine_line, write_report
from evals.squad import SquadQuestion


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1)}


def measure(
    dataset: Path, questions: Sequence[SquadQuestion], settings: Settings, reports: Path
) -> dict[str, object]:
    load_before = os.getloadavg()
    articles = sorted({q.article for q in questions})
    with tempfile.TemporaryDirectory(prefix="cited-history-") as folder:
        service = ingest_into(
            Path(folder), dataset / "corpus", [dataset / "corpus" / f"{a}.txt" for a in articles], settings
        )
        served = service.settings.model_copy(
            update={"rate_limit": "1000000/minute", "answer_step": settings.answer_step}
        )
        with LiveServer(served, embedder=service.embedder) as server, server.client() as client:
            embedder = server.components.asking.answers.embedder
            client.post("/ask", json={"question": questions[0].question}).raise_for_status()  # warm
            alone: list[float] = []
            with_history: list[float] = []
            server_alone: list[float] = []
            server_history: list[float] = []
            contextualised = 0
            earlier: dict[str, dict[str, str]] = {}
            for q in questions:
                embedder.forget()
                started = time.perf_counter()
                reply = client.post("/ask", json={"question": q.question})
                alone.append((time.perf_counter() - started) * 1000)
                reply.raise_for_status()
                body = reply.json()
                server_alone.append(body["timings_ms"]["total"])
                turn = earlier.get(q.article)
                if turn is not None:
                    embedder.forget()
                    started = time.perf_counter()
                    followed = client.post("/ask", json={"question": q.question, "history": [turn]})
                    with_history.append((time.perf_counter() - started) * 1000)
                    followed.raise_for_status()
                    second = followed.json()
                    server_history.append(second["timings_ms"]["total"])
                    contextualised += second["searched_question"] != q.question
                earlier[q.article] = {"question": q.question, "answer": body["answer"][:2000]}
    result: dict[str, object] = {
        "dataset": dataset.name,
        "articles": articles,
        "questions": len(questions),
        "asked_with_history": len(with_history),
        "contextualised": contextualised,
        "http_ms": {"alone": _summary(alone), "with_history": _summary(with_history)},
        "server_total_ms": {"alone": _summary(server_alone), "with_history": _summary(server_history)},
        "median_ratio_with_to_without": round(statistics.median(with_history) / statistics.median(alone), 3),
        **machine(load_before),
    }
    http = result["http_ms"]
    assert isinstance(http, dict)
    write_report(
        reports,
        f"ask-history-{dataset.name.split('-')[0]}",
        result,
        f"# POST /ask with and without history, on {dataset.name}\n\n"
        f"Command: `cited bench history --dataset …/{dataset.name}` (real HTTP to uvicorn on 127.0.0.1; "
        f"{len(articles)} articles ingested into a temporary store; the sentence-vector cache emptied "
        "before every request)\n\n"
        f"- questions: {len(questions)}; asked again with the article's previous question and its answer "
        f"as history: {len(with_history)}, of which {contextualised} were searched with that context\n"
        f"- alone: median {http['alone']['median']} ms, p95 {http['alone']['p95']} ms\n"
        f"- with history: median {http['with_history']['median']} ms, p95 {http['with_history']['p95']} ms\n"
        f"- ratio of medians (with / without): {result['median_ratio_with_to_without']}\n"
        f"- server-side total medians: {result['server_total_ms']}\n"
        f"- {machine_line(result)}\n",
    )
    return result
