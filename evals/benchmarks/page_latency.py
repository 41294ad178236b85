"""What a reader waits for on the page, next to POST /ask for the same question, in one run.

Per question, alternating which goes first: the time from a click on Ask to the answer drawn in
the chat (headless Chromium on /ui), and the wall time of POST /ask over HTTP to the same server.
The difference is what the page adds: Gradio's queue, the busy message's round trip, redrawing
the chat, and the browser's rendering. Questions are asked in one session, so the chat grows as a
reader's would; the report splits the first and last ten turns to show whether that costs.

Run: ``cited bench page``; writes page-latency.{json,md} under --report-dir.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from cited.settings import Settings
from evals.benchmarks.browser import VIEWPORT, launch
from evals.live_server import LiveServer
from evals.metrics import percentile
from evals.questions import Question
from evals.report_files import machine, machine_line, write_report

ANSWER_DRAWN = ".cited-answer, .cited-notfound, .cited-error"


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 1),
        "p95": round(percentile(values, 95), 1),
        "max": round(max(values), 1),
    }


def measure(settings: Settings, questions: list[Question], reports: Path) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    unlimited = settings.model_copy(update={"rate_limit": "1000000/minute"})
    page_ms: list[float] = []
    api_ms: list[float] = []
    with LiveServer(unlimited) as server, server.client() as client, sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(f"{server.url}/ui/", wait_until="load")
        textbox = page.locator("#cited-question textarea")
        textbox.wait_for(timeout=60_000)
        answers = page.locator("#cited-chat [data-testid=bot]")

        def on_page(question: str) -> float:
            before = answers.count()
            textbox.fill(question)
            started = time.perf_counter()
            page.locator("#cited-ask").click()
            answers.nth(before).locator(ANSWER_DRAWN).wait_for(timeout=120_000)
            return (time.perf_counter() - started) * 1000

        def over_http(question: str) -> float:
            started = time.perf_counter()
            client.post("/ask", json={"question": question}).raise_for_status()
            return (time.perf_counter() - started) * 1000

        for i, q in enumerate(questions):
            if i % 2 == 0:
                page_ms.append(on_page(q.question))
                api_ms.append(over_http(q.question))
            else:
                api_ms.append(over_http(q.question))
                page_ms.append(on_page(q.question))
        browser.close()
    ratios = [p / a for p, a in zip(page_ms, api_ms, strict=True)]
    result: dict[str, object] = {
        "questions": len(questions),
        "page_ms": _summary(page_ms),
        "api_ms": _summary(api_ms),
        "median_page_over_api": round(statistics.median(ratios), 2),
        "median_page_minus_api_ms": round(
            statistics.median(p - a for p, a in zip(page_ms, api_ms, strict=True)), 1
        ),
        "page_ms_first_10_turns": round(statistics.median(page_ms[:10]), 1),
        "page_ms_last_10_turns": round(statistics.median(page_ms[-10:]), 1),
        **machine(load_before),
    }
    page, api = result["page_ms"], result["api_ms"]
    assert isinstance(page, dict) and isinstance(api, dict)
    write_report(
        reports,
        "page-latency",
        result,
        "# Page latency against POST /ask\n\n"
        "Command: `cited bench page` (corpus/ ingested into a temporary store; one uvicorn server on "
        "127.0.0.1; headless Chromium on /ui; per question the page and the API alternate going first)\n\n"
        f"- questions: {result['questions']}, asked in one page session (the chat grows to that many turns)\n"
        f"- page, click on Ask to answer drawn: median {page['median']} ms, p95 {page['p95']} ms, "
        f"max {page['max']} ms\n"
        f"- POST /ask: median {api['median']} ms, p95 {api['p95']} ms, max {api['max']} ms\n"
        f"- median per-question ratio page / API: {result['median_page_over_api']}; "
        f"median difference {result['median_page_minus_api_ms']} ms\n"
        f"- page median over the first 10 turns {result['page_ms_first_10_turns']} ms, "
        f"over the last 10 {result['page_ms_last_10_turns']} ms\n"
        f"- {machine_line(result)}\n",
    )
    return result
