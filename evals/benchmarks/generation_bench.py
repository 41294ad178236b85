"""``cited bench generate``: how fast generated answers arrive, and how much of them is withheld.

One run, on a live server over the ingested corpus with the language model of ``CITED_LLM``
(``local`` by default here), question by question:

- quoted ``POST /ask`` (the extractive path), for the side-by-side figure;
- streamed ``POST /ask`` in generated mode: client time to the first verified ``sentence`` event and
  to ``done``, and whether that first sentence arrived before the model finished (the server's
  ``first_sentence`` against retrieval plus ``generate`` in the ``done`` timings);
- the model alone on the same prompt, its streamed pieces per second (llama.cpp streams one
  token per piece; an OpenAI-compatible server may group several, so this is a lower bound there).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import httpx

from cited.settings import Settings
from evals.live_server import LiveServer
from evals.metrics import percentile
from evals.questions import Question
from evals.report_files import write_report
from service.answering.model_prompt import prompt_messages, reply_grammar


def _events(client: httpx.Client, question: str) -> tuple[list[tuple[str, dict[str, object], float]], float]:
    started = time.perf_counter()
    events: list[tuple[str, dict[str, object], float]] = []
    with client.stream("POST", "/ask", json={"question": question, "stream": True, "mode": "generated"}) as r:
        r.raise_for_status()
        name = ""
        for line in r.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: ")), time.perf_counter() - started))
    return events, started


def measure(settings: Settings, questions: list[Question], reports: Path) -> dict[str, object]:
    settings = settings.model_copy(update={"llm": settings.llm if settings.llm != "none" else "local",
                                           "rate_limit": "100000/minute"})  # fmt: skip
    rows = []
    with LiveServer(settings) as server, server.client() as client:
        client.timeout = httpx.Timeout(600)
        model = server.components.answers.chat_model
        assert model is not None
        for q in questions:
            quoted_started = time.perf_counter()
            client.post("/ask", json={"question": q.question, "mode": "quoted"}).raise_for_status()
            quoted_ms = (time.perf_counter() - quoted_started) * 1000
            events, _ = _events(client, q.question)
            names = [e[0] for e in events]
            done = events[-1][1] if names[-1] == "done" else {}
            timings = done.get("timings_ms", {}) if isinstance(done, dict) else {}
            first = next((e[2] * 1000 for e in events if e[0] == "sentence"), None)
            # The model alone, on the prompt the service built: pieces per second.
            passages = server.components.answers.retriever.retrieve(q.question, settings.top_k).passages
            generation_started = time.perf_counter()
            pieces = sum(
                1
                for _ in model.stream(
                    prompt_messages(q.question, passages),
                    settings.llm_max_tokens,
                    reply_grammar(len(passages)),
                )
            )
            seconds = time.perf_counter() - generation_started
            rows.append(
                {"id": q.id, "quoted_ms": round(quoted_ms, 1),
                 "first_sentence_ms": round(first, 1) if first is not None else None,
                 "done_ms": round(events[-1][2] * 1000, 1),
                 "server_first_sentence_ms": timings.get("first_sentence"),
                 "server_model_done_ms": timings.get("generation_done"),
                 "shown": names.count("sentence"), "withheld": names.count("withheld"),
                 "mode": done.get("mode") if isinstance(done, dict) else None,
                 "pieces_per_s": round(pieces / seconds, 1) if seconds > 0 else None}
            )  # fmt: skip
    result = summarise(rows, settings, len(questions))
    write_report(reports, "generate-bench", {**result, "rows": rows}, markdown(result))
    return result


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def summarise(rows: list[dict[str, object]], settings: Settings, questions: int) -> dict[str, object]:
    firsts = [float(r["first_sentence_ms"]) for r in rows if r["first_sentence_ms"] is not None]  # type: ignore[arg-type]
    before = [
        r for r in rows
        if r["server_first_sentence_ms"] is not None and r["server_model_done_ms"] is not None
        and float(r["server_first_sentence_ms"]) < float(r["server_model_done_ms"])  # type: ignore[arg-type]
    ]  # fmt: skip
    shown = sum(int(r["shown"]) for r in rows)  # type: ignore[call-overload]
    withheld = sum(int(r["withheld"]) for r in rows)  # type: ignore[call-overload]
    quoted = [float(r["quoted_ms"]) for r in rows]  # type: ignore[arg-type]
    done = [float(r["done_ms"]) for r in rows]  # type: ignore[arg-type]
    return {
        "command": "cited bench generate",
        "model": settings.llm,
        "questions": questions,
        "quoted_ask_ms": {"median": _median(quoted), "p95": round(percentile(quoted, 95), 1)},
        "generated_done_ms": {"median": _median(done), "p95": round(percentile(done, 95), 1)},
        "first_verified_sentence_ms": {"median": _median(firsts), "questions_with_one": len(firsts)},
        "first_sentence_before_model_finished": len(before),
        "pieces_per_s_median": _median([float(r["pieces_per_s"]) for r in rows if r["pieces_per_s"]]),  # type: ignore[arg-type]
        "generated_sentences": shown + withheld,
        "withheld_share": round(withheld / (shown + withheld), 3) if shown + withheld else None,
        "answered_generated": sum(r["mode"] == "generated" for r in rows),
    }


def markdown(result: dict[str, object]) -> str:
    lines = ["# Generated answers: speed and withheld share", "", f"Command: `{result['command']}` "
             f"({result['questions']} questions, model `{result['model']}`; one run).", "",
             "| figure | value |", "|---|---|"]  # fmt: skip
    lines += [f"| {k} | {v} |" for k, v in result.items() if k not in ("command",)]
    return "\n".join(lines) + "\n"
