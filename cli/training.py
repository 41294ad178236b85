"""``cited train``: fit the models Cited ships, reproducibly, from ``../shared`` and ``evals/data``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.options import SQUAD2_DEV, ReportDirOption, SquadOption, get_settings

train = typer.Typer(help="Fit the models Cited ships (never on the golden set).", no_args_is_help=True)


@train.command("answers")
def train_answers(
    dataset: SquadOption = SQUAD2_DEV,
    corpus: Annotated[Path, typer.Option(help="The documents the dev questions are about.")] = Path("corpus"),
    questions: Annotated[
        Path, typer.Option(help="Dev questions (JSONL, as evals/data/dev_questions.jsonl).")
    ] = Path("evals/data/dev_questions.jsonl"),
    out: Annotated[Path | None, typer.Option(help="Where the model goes (default: the shipped one).")] = None,
    reports: ReportDirOption = None,
) -> None:
    """Fit the learned answer step on SQuAD 2.0 articles and the dev questions; every choice by
    cross-validation grouped by article or document. Writes the model, and answer-model.md under
    --report-dir."""
    from evals.answer_model_report import write_report
    from evals.answer_training import collect, fit, fitting_questions, out_of_fold
    from evals.relevance_training import fit_relevance
    from evals.squad import load_questions
    from service.answering.relevance import MODEL_PATH as RELEVANCE_PATH
    from service.answering.span_model import MODEL_PATH

    # Refusals are domain errors: the `cited` group stops the command with their message and exit code.
    fitted_on = fitting_questions(questions, corpus)
    asked = collect(get_settings(), dataset, load_questions(dataset), corpus, fitted_on)
    model = fit(asked)
    model.save(out or MODEL_PATH)
    held_out = out_of_fold(asked, model.about["regularisation_C"], model.about["dev_weight"], folds=5)
    relevance = fit_relevance(asked, held_out)
    relevance_out = (out or MODEL_PATH).with_name(RELEVANCE_PATH.name)
    relevance.save(relevance_out)
    report = write_report(model, reports, relevance)
    typer.echo(
        f"model: {out or MODEL_PATH} (grouped CV accuracy {model.about['grouped_cv_accuracy']}, "
        f"threshold {model.threshold}); relevance: {relevance_out} (cut {relevance.threshold}); "
        f"report: {report}"
    )
