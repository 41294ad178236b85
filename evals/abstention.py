"""Choose the abstention threshold from measurements, and report what it achieves.

For every question of the calibration set this records the best sentence score the answerer sees
(see ``service/answering/formula_selection.py``). A threshold abstains on questions scoring below
it. The chosen threshold maximises balanced accuracy: the mean of (share of answerable questions answered) and
(share of unanswerable questions abstained on), so neither kind dominates. It sits halfway between
the two neighbouring observed scores. Leave-one-out accuracy (each question judged by a threshold
chosen without it) estimates how well the choice carries to new questions.

Run: ``cited calibrate`` (writes abstention-calibration.{json,md} under --report-dir).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.model_selection import LeaveOneOut

from cited.settings import Settings
from evals.questions import Question
from evals.report_files import write_report
from evals.thresholds import candidate_cuts
from service.answering.answer_service import AnswerService
from service.answering.ask_schema import AskRequest


@dataclass(frozen=True)
class Scored:
    id: str
    question: str
    answerable: bool
    best_score: float


@dataclass(frozen=True)
class Outcome:
    threshold: float
    answered_answerable: float  # recall of answering
    abstained_unanswerable: float  # recall of abstaining
    balanced_accuracy: float


def outcome(scored: list[Scored], threshold: float) -> Outcome:
    truth = [s.answerable for s in scored]
    answers = [s.best_score >= threshold for s in scored]
    # Recall of each class: answering the answerable, abstaining on the unanswerable.
    answered, abstained = (
        float(recall_score(truth, answers, pos_label=label, zero_division=0)) for label in (True, False)
    )
    return Outcome(threshold, answered, abstained, float(balanced_accuracy_score(truth, answers)))


def choose_threshold(scored: list[Scored]) -> Outcome:
    """The threshold of best balanced accuracy, halfway between neighbouring scores.

    Ties go to the lower threshold: on equal accuracy, answering is more useful than abstaining.
    """
    cuts = candidate_cuts(s.best_score for s in scored)
    return max((outcome(scored, c) for c in cuts), key=lambda o: (o.balanced_accuracy, -o.threshold))


def leave_one_out(scored: list[Scored]) -> float:
    """Balanced accuracy when each question is judged by a threshold chosen without it."""
    answers = [False] * len(scored)
    for kept, (left_out,) in LeaveOneOut().split(scored):
        threshold = choose_threshold([scored[i] for i in kept]).threshold
        answers[left_out] = scored[left_out].best_score >= threshold
    return float(balanced_accuracy_score([s.answerable for s in scored], answers))


def score_questions(service: AnswerService, questions: list[Question]) -> list[Scored]:
    scored = []
    for q in questions:
        retrieval = service.retriever.retrieve(q.question, service.settings.top_k)
        best = service.select(q.question, retrieval, step="formula").best_score
        scored.append(Scored(q.id, q.question, q.answerable, round(best, 4)))
    return scored


def answer_quality(service: AnswerService, questions: list[Question]) -> dict[str, float]:
    """With the service's current threshold: hit rate and fact recall on answerable questions."""
    hits, facts, answered = [], [], 0
    for q in (q for q in questions if q.answerable):
        response = service.ask(AskRequest(question=q.question))
        answered += not response.abstained
        hits.append(any(c.source in q.documents for c in response.citations))
        facts.append(q.facts_found(response.answer))
    n = max(len(hits), 1)
    return {
        "answerable_questions": len(hits),
        "answered": answered,
        "hit_rate": round(sum(hits) / n, 4),
        "fact_recall": round(statistics.fmean(facts) if facts else 0.0, 4),
    }


def calibrate(settings: Settings, questions: list[Question], reports: Path) -> dict[str, object]:
    settings = settings.model_copy(update={"answer_step": "formula"})  # the threshold is the formula's
    service = AnswerService.from_settings(settings)
    scored = score_questions(service, questions)
    chosen = choose_threshold(scored)
    at_chosen = AnswerService(
        settings.model_copy(update={"abstain_threshold": round(chosen.threshold, 3)}),
        service.embedder,
        service.store,
        service.retriever,
    )
    result: dict[str, object] = {
        "questions": len(scored),
        "answerable": sum(s.answerable for s in scored),
        "top_k": settings.top_k,
        "chosen": asdict(chosen),
        "leave_one_out_balanced_accuracy": round(leave_one_out(scored), 4),
        "quality_at_chosen_threshold": answer_quality(at_chosen, questions),
        "scores": [asdict(s) for s in sorted(scored, key=lambda s: s.best_score)],
    }
    reports.mkdir(parents=True, exist_ok=True)
    write_report(reports, "abstention-calibration", result, _markdown(result, scored))
    return result


def _markdown(result: dict[str, object], scored: list[Scored]) -> str:
    chosen = result["chosen"]
    assert isinstance(chosen, dict)
    lines = [
        "# Abstention threshold calibration",
        "",
        "Command: `cited calibrate` (questions: evals/data/dev_questions.jsonl)",
        "",
        f"- questions: {result['questions']} ({result['answerable']} answerable)",
        f"- chosen threshold: **{chosen['threshold']:.3f}**",
        f"- answerable questions answered: {chosen['answered_answerable']:.1%}",
        f"- unanswerable questions abstained on: {chosen['abstained_unanswerable']:.1%}",
        f"- balanced accuracy: {chosen['balanced_accuracy']:.3f}"
        f" (leave-one-out: {result['leave_one_out_balanced_accuracy']:.3f})",
        f"- at this threshold: {result['quality_at_chosen_threshold']}",
        "",
        "| best score | answerable | id | question |",
        "|---:|:---:|---|---|",
    ]
    for s in sorted(scored, key=lambda s: s.best_score):
        mark = "yes" if s.answerable else "no"
        lines.append(f"| {s.best_score:.3f} | {mark} | {s.id} | {s.question.replace('|', '/')} |")
    return "\n".join(lines) + "\n"
