"""``cited bench answers``: how the answer step does on SQuAD 2.0 questions with and without answers.

The articles are ingested as an open corpus through the real ingest, and every question goes
through the real retrieval and sentence selection. Side by side, from the same retrieval and
selection of each question:

- **today's scorer**: the answer ``POST /ask`` gives (abstains below ``CITED_ABSTAIN_THRESHOLD``);
- **always answer**: the same sentences, never abstaining;
- **always abstain**: the share of unanswerable questions, the floor any answer step must beat.

Each question is asked with the sentence-vector cache emptied first, so its latency is that of a
question the service has not seen. Figures by expected answer type (``cited/text_features.py``).
Writes ``reports/answers-<dataset>.{json,md}``.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cited.embedding import make_embedder
from cited.settings import Settings
from cited.store import open_store
from cited.text_features import expected_answer_type
from evals.metrics import percentile
from evals.squad import SquadQuestion, contains_answer
from ingest.loading import FileSource
from ingest.sync import Ingestor
from service.answering.answers import AnswerService
from service.answering.citations import cite

SYSTEMS = ("today", "always_answer", "always_abstain")


@dataclass(frozen=True)
class Asked:
    question: SquadQuestion
    kind: str  # expected answer type
    best_score: float
    answer: str  # the quoted sentences, were the step to answer
    cited_passages: tuple[str, ...]
    milliseconds: float


def ask_all(service: AnswerService, questions: Sequence[SquadQuestion]) -> list[Asked]:
    asked = []
    for q in questions:
        service.embedder.forget()  # a question never seen: no sentence vector is cached
        started = time.perf_counter()
        retrieval = service.retriever.retrieve(q.question, service.settings.top_k)
        selection = service.select(q.question, retrieval)
        cited = cite(selection.chosen)
        milliseconds = (time.perf_counter() - started) * 1000
        passages = tuple(c.passage.chunk.text for c in cited.citations)
        asked.append(
            Asked(
                q,
                expected_answer_type(q.question),
                selection.best_score,
                cited.answer,
                passages,
                milliseconds,
            )
        )
    return asked


def outcome(item: Asked, system: str, threshold: float) -> dict[str, bool]:
    """What ``system`` did with one question: answered, right, gold in quote, gold in a passage."""
    answers = {
        "today": item.best_score >= threshold and bool(item.answer),
        "always_answer": bool(item.answer),
    }
    answered = answers.get(system, False)
    q = item.question
    in_quote = answered and q.answerable and contains_answer(item.answer, q.answers)
    in_passage = answered and q.answerable and any(contains_answer(p, q.answers) for p in item.cited_passages)
    right = in_quote if q.answerable else not answered
    return {"answered": answered, "right": right, "in_quote": in_quote, "in_passage": in_passage}


def table(asked: Sequence[Asked], threshold: float) -> dict[str, dict[str, object]]:
    """Per system, overall and per answer type: the issue's four shares and the counts behind them."""
    result: dict[str, dict[str, object]] = {}
    kinds = sorted({a.kind for a in asked})
    for system in SYSTEMS:
        rows: dict[str, object] = {}
        for kind in ["all", *kinds]:
            items = [a for a in asked if kind in ("all", a.kind)]
            outcomes = [outcome(a, system, threshold) for a in items]
            answerable = [o for a, o in zip(items, outcomes, strict=True) if a.question.answerable]
            unanswerable = [o for a, o in zip(items, outcomes, strict=True) if not a.question.answerable]
            rows[kind] = {
                "questions": len(items),
                "answerable": len(answerable),
                "unanswerable": len(unanswerable),
                "answered_with_gold_in_quote": _share([o["in_quote"] for o in answerable]),
                "answered_with_gold_in_cited_passage": _share([o["in_passage"] for o in answerable]),
                "unanswerable_abstained": _share([not o["answered"] for o in unanswerable]),
                "overall": _share([o["right"] for o in outcomes]),
            }
        result[system] = rows
    return result


def _share(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def run(
    dataset: Path,
    questions: Sequence[SquadQuestion],
    reports: Path,
    settings: Settings,
) -> dict[str, object]:
    """Ingest the articles ``questions`` are about (read in place), ask them all, write the reports."""
    corpus = dataset / "corpus"
    articles = sorted({q.article for q in questions})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cited-answers-") as folder:
        store_settings = settings.model_copy(update={"data_dir": Path(folder), "corpus_dir": corpus})
        embedder = make_embedder(store_settings.embedder, store_settings.embed_batch_size)
        items = [FileSource(corpus / f"{article}.txt", corpus) for article in articles]
        report = Ingestor(store_settings, embedder, open_store(store_settings)).sync(items)
        if not report.ok:
            raise RuntimeError(f"ingest of {corpus} failed: {report.failed}")
        ingest_seconds = time.perf_counter() - started
        service = AnswerService.from_settings(store_settings, embedder)
        service.warm_up()
        asked = ask_all(service, questions)
    latencies = [a.milliseconds for a in asked]
    result: dict[str, object] = {
        "dataset": dataset.name,
        "questions": len(asked),
        "articles": sorted({a.question.article for a in asked}),
        "abstain_threshold": settings.abstain_threshold,
        "ingest_seconds": round(ingest_seconds, 1),
        "latency_ms": {
            "median": round(statistics.median(latencies), 1),
            "p95": round(percentile(latencies, 95), 1),
        },
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "systems": table(asked, settings.abstain_threshold),
    }
    reports.mkdir(parents=True, exist_ok=True)
    stem = reports / f"answers-{dataset.name.split('-')[0]}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    stem.with_suffix(".md").write_text(_markdown(result), encoding="utf-8")
    return result


def _markdown(result: dict[str, object]) -> str:
    systems: dict[str, dict[str, dict[str, object]]] = result["systems"]  # type: ignore[assignment]
    latency: dict[str, float] = result["latency_ms"]  # type: ignore[assignment]
    lines = [
        f"# Answers on {result['dataset']}",
        "",
        f"Command: `cited bench answers --dataset …/{result['dataset']}`; {result['questions']} questions "
        f"over the articles {', '.join(result['articles'])} (SQuAD 2.0, CC BY-SA 4.0), ingested in "  # type: ignore[arg-type]
        f"{result['ingest_seconds']} s. Today's threshold: {result['abstain_threshold']}. Latency (retrieve "
        f"+ select + cite, sentence cache emptied before each question): median {latency['median']} ms, "
        f"p95 {latency['p95']} ms.",
        "",
        "| system | type | questions | answerable: gold in quote | gold in cited passage "
        "| unanswerable abstained | overall |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for system, rows in systems.items():
        for kind, row in rows.items():
            lines.append(
                f"| {system} | {kind} | {row['questions']} | {_fmt(row['answered_with_gold_in_quote'])} "
                f"| {_fmt(row['answered_with_gold_in_cited_passage'])} "
                f"| {_fmt(row['unanswerable_abstained'])} | {_fmt(row['overall'])} |"
            )
    return "\n".join(lines) + "\n"


def _fmt(value: object) -> str:
    return "–" if value is None else f"{value:.3f}"  # type: ignore[str-format]
