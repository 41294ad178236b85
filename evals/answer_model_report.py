"""``reports/answer-model.md``: what ``cited train answers`` fitted, and what cross-validation measured."""

from __future__ import annotations

from pathlib import Path

from service.answering.relevance import RelevanceModel
from service.answering.span_model import AnswerModel


def write_report(model: AnswerModel, reports: Path, relevance: RelevanceModel | None = None) -> Path:
    about = model.about
    lines = [
        "# The learned answer step",
        "",
        "Fitted by `cited train answers` (logistic regression over standardised features; "
        "service/answering/span_model.json).",
        "",
        f"- questions: {about.get('questions')}; candidate spans: {about.get('spans')}",
        f"- groups held out together: {', '.join(about.get('groups', []))}",
        f"- chosen by grouped cross-validation: C = {about.get('regularisation_C')}, dev weight = "
        f"{about.get('dev_weight')}, abstain below {model.threshold}, quote a further span at "
        f"{model.companion_ratio} of the best one's probability",
        f"- grouped CV accuracy on the questions the cut is calibrated on ({about.get('calibrated_on')}): "
        f"{about.get('grouped_cv_accuracy')}",
        "",
        "| feature | weight (per standard deviation) |",
        "|---|---:|",
    ]
    for name, weight in sorted(
        zip(model.features, model.coefficients, strict=True), key=lambda x: -abs(x[1])
    ):
        lines.append(f"| {name} | {weight:+.3f} |")
    lines.append(f"| (intercept) | {model.intercept:+.3f} |")
    if relevance is not None:
        lines += [
            "",
            "## Closest or not found (service/answering/relevance_model.json)",
            "",
            f"When the step abstains, its closest passages are shown unless this model's probability is "
            f"below {relevance.threshold}: the highest cut that keeps {relevance.about.get('min_recall')} "
            "of each source's answerable questions out of fold.",
            "",
            "| source | answerable shown closest | unanswerable not found | AUC |",
            "|---|---:|---:|---:|",
        ]
        for key, figures in relevance.about.items():
            if key.startswith("out_of_fold_"):
                lines.append(
                    f"| {key.removeprefix('out_of_fold_')} | {figures['answerable_kept']} "
                    f"| {figures['unanswerable_not_found']} | {figures['auc']} |"
                )
        lines += ["", "| feature | weight (per standard deviation) |", "|---|---:|"]
        for name, weight in zip(relevance.features, relevance.coefficients, strict=True):
            lines.append(f"| {name} | {weight:+.3f} |")
        lines.append(f"| (intercept) | {relevance.intercept:+.3f} |")
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / "answer-model.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
