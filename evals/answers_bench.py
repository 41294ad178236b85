"""``cited bench answers``: how the answer steps do on SQuAD 2.0 questions with and without answers.

The articles are ingested as an open corpus through the real ingest, and every question goes
through the real retrieval and candidate spans. Side by side, from the same retrieval of each
question:

- **formula**: the scorer Cited shipped before the learned step (``CITED_ANSWER_STEP=formula``);
- **learned**: the learned step, **out of sample**: each article's questions are answered by a model
  fitted (``evals/answer_training.py``, choices by grouped cross-validation) without that article,
  on the other articles and the dev questions, its abstention cut calibrated on the other
  articles (the shipped model's is calibrated on the dev questions over ``corpus/``);
  when it is unsure, its closest passages are shown (``closest``) unless a relevance model, fitted
  the same way without the article, says none is about the question (``not_found``); **useful**
  counts an answerable question whose gold answer is in the quote, or in the closest passages (the
  3 most probable of the first ``CLOSEST_POOL`` retrieved, as the service shows them);
- **always answer**: the learned step's spans, never abstaining;
- **always abstain**: the share of unanswerable questions, the floor any answer step must beat.

Each question is asked with the sentence-vector cache emptied first, so its latency is that of a
question the service has not seen; each step's latency is retrieval plus its own selection.
Figures by expected answer type (``cited/text/features.py``). Writes
``reports/answers-<dataset>.{json,md}``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cited.settings import Settings
from cited.text.features import expected_answer_type
from evals.answer_training import (
    AskedQuestion,
    ask_dev,
    ask_squad,
    fit,
    holds,
    ingest_into,
    out_of_fold,
    predict,
    quoted,
)
from evals.ingest_overhead import span_vector_overhead
from evals.inputs import known_names
from evals.metrics import percentile
from evals.questions import Question
from evals.relevance_training import fit_relevance, shown_passages
from evals.report_files import write_report
from evals.squad import SquadQuestion, contains_answer, load_questions
from service.answering.relevance import question_row

SYSTEMS = ("formula", "learned", "always_answer", "always_abstain")


def out_of_sample(asked: Sequence[AskedQuestion], dev: Sequence[AskedQuestion]) -> dict[str, np.ndarray]:
    """Each SQuAD question's span probabilities from a model fitted without its article, and the
    threshold and companion ratio of that model (per question id)."""
    result: dict[str, np.ndarray] = {}
    for article in sorted({a.group for a in asked}):
        training = [a for a in asked if a.group != article] + list(dev)
        model = fit(training, calibrate_on="squad")
        held_out = out_of_fold(training, model.about["regularisation_C"], model.about["dev_weight"], folds=5)
        relevance = fit_relevance(training, held_out)
        for a in asked:
            if a.group == article:
                probabilities = predict(model, a)
                result[a.id] = probabilities
                if a.wide is not None:
                    result[a.id + "#wide"] = predict(model, a.wide)
                relevant = bool(len(a.rows)) and relevance.relevant(question_row(a.rows, probabilities))
                result[a.id + "#cut"] = np.array([model.threshold, model.companion_ratio, float(relevant)])
    return result


def outcome(item: AskedQuestion, system: str, learned: dict[str, np.ndarray]) -> dict[str, bool]:
    """What ``system`` did with one question: answered, right, gold in quote, gold in a passage, and
    for the learned step its outcome (answered, closest, not_found) and whether it was useful."""
    if system == "formula":
        selection = item.formula
        assert selection is not None
        answered = selection.answered and bool(selection.chosen)
        quote = " ".join(c.sentence.text for c in selection.chosen)
        passages = [c.passage.chunk.text for c in selection.chosen]
    elif system in ("learned", "always_answer"):
        probabilities = learned[item.id]
        threshold, ratio, relevant = learned[item.id + "#cut"]
        chosen = quoted(item, probabilities, float(ratio))
        answered = bool(chosen) and (system == "always_answer" or float(probabilities.max()) >= threshold)
        quote = " ".join(item.texts[i] for i in chosen)
        passages = [item.passages[int(item.span_passages[i])] for i in chosen]
    else:
        answered, quote, passages = False, "", []
    in_quote = answered and item.answerable and holds(quote, item.gold, item.source)
    in_passage = answered and item.answerable and any(contains_answer(p, item.gold) for p in passages)
    right = in_quote if item.answerable else not answered
    closest = system == "learned" and not answered and bool(relevant) and bool(len(item.rows))
    useful = in_quote or (
        closest
        and item.answerable
        and any(
            holds(p, item.gold, item.source)
            for p in shown_passages(item, learned[item.id], learned.get(item.id + "#wide"))
        )
    )
    return {
        "answered": answered,
        "right": right,
        "in_quote": in_quote,
        "in_passage": in_passage,
        "closest": closest,
        "not_found": not answered and not closest,
        "useful": useful,
    }


def table(asked: Sequence[AskedQuestion], learned: dict[str, np.ndarray]) -> dict[str, dict[str, object]]:
    """Per system, overall and per answer type: the issue's four shares and the counts behind them."""
    result: dict[str, dict[str, object]] = {}
    kinds = {a.id: expected_answer_type(a.question) for a in asked}
    for system in SYSTEMS:
        rows: dict[str, object] = {}
        for kind in ["all", *sorted(set(kinds.values()))]:
            items = [a for a in asked if kind in ("all", kinds[a.id])]
            outcomes = [outcome(a, system, learned) for a in items]
            answerable = [o for a, o in zip(items, outcomes, strict=True) if a.answerable]
            unanswerable = [o for a, o in zip(items, outcomes, strict=True) if not a.answerable]
            rows[kind] = {
                "questions": len(items),
                "answerable": len(answerable),
                "unanswerable": len(unanswerable),
                "answered_with_gold_in_quote": _share([o["in_quote"] for o in answerable]),
                "answered_with_gold_in_cited_passage": _share([o["in_passage"] for o in answerable]),
                "unanswerable_abstained": _share([not o["answered"] for o in unanswerable]),
                "overall": _share([o["right"] for o in outcomes]),
                "answerable_useful": _share([o["useful"] for o in answerable]),
                "closest": _share([o["closest"] for o in outcomes]),
                "unanswerable_not_found": _share([o["not_found"] for o in unanswerable]),
            }
        result[system] = rows
    return result


def _share(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _latency(values: Sequence[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1)}


def chosen_questions(
    dataset: Path, articles: Sequence[str], max_questions: int | None
) -> list[SquadQuestion]:
    """The questions of ``articles`` (every article when none), the first ``max_questions`` of them;
    an unknown article is refused with the list of known ones."""
    questions = load_questions(dataset)
    known_names(articles, sorted({q.article for q in questions}), "article")
    return [q for q in questions if not articles or q.article in articles][:max_questions]


def run(
    dataset: Path,
    questions: Sequence[SquadQuestion],
    reports: Path,
    settings: Settings,
    corpus: Path,
    dev_questions: Sequence[Question],
    ingest_runs: int = 3,
) -> dict[str, object]:
    """Ingest the articles ``questions`` are about (read in place), ask them all, fit the learned
    step out of sample, write the reports."""
    articles = sorted({q.article for q in questions})
    files = [dataset / "corpus" / f"{a}.txt" for a in articles]
    # First, while the process holds nothing else: as a `cited ingest` process would run.
    overhead = span_vector_overhead(files, dataset / "corpus", settings, ingest_runs) if ingest_runs else None
    with tempfile.TemporaryDirectory(prefix="cited-answers-") as folder:
        started = time.perf_counter()
        service = ingest_into(
            Path(folder) / "squad",
            dataset / "corpus",
            files,
            settings,
        )
        ingest_seconds = time.perf_counter() - started
        asked = ask_squad(service, questions, with_formula=True, wide=True)
        dev_files = sorted(p for p in corpus.iterdir() if p.is_file())
        dev = ask_dev(ingest_into(Path(folder) / "dev", corpus, dev_files, settings), dev_questions)
    learned = out_of_sample(asked, dev)
    result: dict[str, object] = {
        "dataset": dataset.name,
        "questions": len(asked),
        "articles": articles,
        "dev_questions": len(dev),
        "ingest_seconds": round(ingest_seconds, 1),
        "latency_ms": {
            "formula": _latency([a.formula_ms or 0.0 for a in asked]),
            "learned": _latency([a.select_ms for a in asked]),
        },
        "ingest_with_and_without_span_vectors": overhead,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "systems": table(asked, learned),
    }
    reports.mkdir(parents=True, exist_ok=True)
    stem = f"answers-{dataset.name.split('-')[0]}"
    write_report(reports, stem, result, _markdown(result))
    return result


def _markdown(result: dict[str, object]) -> str:
    systems: dict[str, dict[str, dict[str, object]]] = result["systems"]  # type: ignore[assignment]
    latency: dict[str, dict[str, float]] = result["latency_ms"]  # type: ignore[assignment]
    lines = [
        f"# Answers on {result['dataset']}",
        "",
        f"Command: `cited bench answers --dataset …/{result['dataset']}`; {result['questions']} questions "
        f"over the articles {', '.join(result['articles'])} (SQuAD 2.0, CC BY-SA 4.0), ingested in "  # type: ignore[arg-type]
        f"{result['ingest_seconds']} s. The learned step is scored out of sample: each article's "
        f"questions by a model fitted without it (on the other articles and {result['dev_questions']} "
        "dev questions).",
        "",
        "Latency (retrieval + the step's selection, sentence cache emptied before each question): "
        + "; ".join(f"{k} median {v['median']} ms, p95 {v['p95']} ms" for k, v in latency.items()),
        "",
        "Ingest of these articles with and without span vectors: "
        f"{result['ingest_with_and_without_span_vectors']}",
        "",
        "| system | type | questions | answerable: gold in quote | gold in cited passage "
        "| useful (quote or closest passages) | closest | unanswerable abstained | unanswerable not found "
        "| overall |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for system, rows in systems.items():
        for kind, row in rows.items():
            lines.append(
                f"| {system} | {kind} | {row['questions']} | {_fmt(row['answered_with_gold_in_quote'])} "
                f"| {_fmt(row['answered_with_gold_in_cited_passage'])} | {_fmt(row['answerable_useful'])} "
                f"| {_fmt(row['closest'])} | {_fmt(row['unanswerable_abstained'])} "
                f"| {_fmt(row['unanswerable_not_found'])} | {_fmt(row['overall'])} |"
            )
    return "\n".join(lines) + "\n"


def _fmt(value: object) -> str:
    return "–" if value is None else f"{value:.3f}"  # type: ignore[str-format]
