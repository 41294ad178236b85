"""`cited eval` and `cited eval judge`: the golden set and the support judge, gated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from cited.settings import get_settings
from cli.errors import CommandError
from cli.options import ReportDirOption

if TYPE_CHECKING:
    from evals.gates import EvalConfig

evaluate = typer.Typer(
    help="The golden-set eval: grounding, citations, abstention, retrieval; gated by evals/config.toml."
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Gates and judge parameters (default: evals/config.toml)."),
]
JudgeOption = Annotated[
    str,
    typer.Option(
        "--judge",
        help="overlap (deterministic, the default) or chat (CITED_JUDGE_BASE_URL, CITED_JUDGE_MODEL).",
    ),
]


def _eval_config(path: Path | None) -> EvalConfig:
    from evals.gates import CONFIG, ConfigError, load_config

    try:
        return load_config(path or CONFIG)
    except ConfigError as exc:
        raise CommandError(str(exc)) from exc


def _judge_kind(value: str) -> Literal["overlap", "chat"]:
    if value not in ("overlap", "chat"):
        raise CommandError(f"--judge {value!r}: use overlap or chat")
    return value  # type: ignore[return-value]


@evaluate.callback(invoke_without_command=True)
def eval_golden(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(help="Ask a running server (http://127.0.0.1:8000) instead of in-process."),
    ] = None,
    questions: Annotated[Path | None, typer.Option(help="Question set (default: the golden set).")] = None,
    follow_ups: Annotated[
        Path | None,
        typer.Option(
            help="Two-turn conversations to score as follow-ups (default: evals/data/follow_ups.jsonl "
            "with the golden set, none with another question set)."
        ),
    ] = None,
    corpus: Annotated[
        Path | None, typer.Option(help="In-process: corpus to ingest (default: CITED_CORPUS_DIR).")
    ] = None,
    config: ConfigOption = None,
    judge: JudgeOption = "overlap",
    reports: ReportDirOption = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="CITED_EVAL_API_KEY", help="With --url on a server with auth on.")
    ] = None,
    llm: Annotated[
        str | None,
        typer.Option(
            help="In-process: answer in generated mode with local (the packaged SmolLM2) or openai "
            "(CITED_LLM_BASE_URL, CITED_LLM_MODEL). Gates: no shown sentence fails verification, "
            "no marker without its citation (the quoted-answer thresholds are reported, not gated)."
        ),
    ] = None,
) -> None:
    """Run the golden set, write eval-<timestamp>.{json,md,png} under --report-dir, exit 1 below a threshold.

    In-process (the default) it ingests the corpus into a temporary store; with --url it asks a
    running server over HTTP. Exits 2 on bad input (config, question file, unreachable server).
    """
    if ctx.invoked_subcommand is not None:
        return
    from evals import questions as question_sets
    from evals.evaluation import JudgeConfigError, run_evaluation
    from evals.judge import JudgeUnavailableError
    from evals.suite import TargetError

    eval_config = _eval_config(config)
    kind = _judge_kind(judge)
    if llm not in (None, "local", "openai"):
        raise CommandError(f"--llm {llm!r}: use local or openai")
    if llm and url:
        raise CommandError(
            "--llm answers in-process; a server started with CITED_LLM=... is asked with --url alone"
        )
    from evals.follow_ups import FOLLOW_UPS, load_conversations

    question_set = questions or question_sets.GOLDEN_QUESTIONS
    conversation_set = follow_ups or (FOLLOW_UPS if questions is None else None)
    try:
        loaded = question_sets.load(question_set)
    except (OSError, ValueError, TypeError) as exc:
        raise CommandError(f"cannot read questions from {question_set}: {exc}") from exc
    try:
        conversations = load_conversations(conversation_set) if conversation_set else None
    except (OSError, ValueError, TypeError) as exc:
        raise CommandError(f"cannot read conversations from {conversation_set}: {exc}") from exc
    try:
        outcome = run_evaluation(
            get_settings(), eval_config, loaded, question_set, reports, url, kind, corpus, api_key, llm,
            conversations, conversation_set,
        )  # fmt: skip
    except (TargetError, JudgeConfigError, JudgeUnavailableError) as exc:
        raise CommandError(str(exc)) from exc
    metrics = outcome.run["metrics"]
    assert isinstance(metrics, dict)
    for name, value in metrics.items():
        minimum = eval_config.thresholds.get(name)
        gate = "" if minimum is None else f"  (threshold {minimum})"
        typer.echo(f"{name:<28} {'n/a' if value is None else value}{gate}")
    typer.echo(f"report: {outcome.paths['markdown']}")
    broken = {  # promises, not thresholds: any one of these is a defect
        name: metrics.get(name)
        for name in ("generation.shown_failing_verification", "citations.unresolved_markers")
        if metrics.get(name)
    }
    if broken:
        raise CommandError(f"the citation promise is broken: {broken}", exit_code=1)
    if outcome.shortfalls:
        for s in outcome.shortfalls:
            typer.secho(f"BELOW THRESHOLD: {s.metric} = {s.value} < {s.threshold}", fg="red", err=True)
        raise CommandError(f"{len(outcome.shortfalls)} metric(s) below their thresholds", exit_code=1)


@evaluate.command("judge")
def eval_judge(
    config: ConfigOption = None,
    judge: JudgeOption = "overlap",
    reports: ReportDirOption = None,
) -> None:
    """Accuracy of a support judge on the labelled pairs (evals/data/support_pairs.jsonl).

    Exits 1 when the overlap judge falls below [judge] min_accuracy in the config.
    """
    from evals.evaluation import JudgeConfigError
    from evals.judge import JudgeUnavailableError
    from evals.judge_calibration import calibrate_judge

    eval_config = _eval_config(config)
    kind = _judge_kind(judge)
    try:
        result = calibrate_judge(kind, get_settings(), eval_config, reports)
    except (JudgeConfigError, JudgeUnavailableError) as exc:
        raise CommandError(str(exc)) from exc
    configured = result["configured"]
    assert isinstance(configured, dict)
    typer.echo(
        f"{kind} judge on {result['pairs']} pairs: accuracy {configured['accuracy']:.3f}, precision "
        f"{configured['precision']:.3f}, recall {configured['recall']:.3f}"
    )
    for name in ("fit_negation_on", "fit_negation_off"):
        fitted = result.get(name)
        if isinstance(fitted, dict):
            typer.echo(
                f"{name}: {fitted['params']} in-sample {fitted['in_sample_accuracy']:.3f}, "
                f"5-fold {fitted['cross_validated_accuracy']:.3f}"
            )
    typer.echo(f"report: {reports / f'judge-calibration-{kind}.md'}")
    if kind == "overlap" and configured["accuracy"] < eval_config.judge_min_accuracy:
        raise CommandError(
            f"BELOW THRESHOLD: judge accuracy {configured['accuracy']:.3f} "
            f"< {eval_config.judge_min_accuracy}",
            exit_code=1,
        )


@evaluate.command("verifier")
def eval_verifier(
    reports: ReportDirOption = None,
) -> None:
    """Choose the verifier's weight and threshold on evals/data/support_pairs.jsonl and report them on
    evals/data/verifier_sentences.jsonl (never fitted on), by kind. Set the chosen values as
    CITED_VERIFY_WEIGHT and CITED_VERIFY_THRESHOLD (the defaults are the last run's)."""
    from cited.models.embedding import configured_embedder
    from evals.verifier_fitting import TARGET_WITHHELD_UNSUPPORTED, calibrate_verifier

    settings = get_settings()
    result = calibrate_verifier(configured_embedder(settings), reports)
    typer.echo(json.dumps({k: result[k] for k in ("chosen", "fitted_on", "held_out")}, indent=2))
    typer.echo(f"report: {reports / 'verifier.md'}")
    held_out = result["held_out"]
    assert isinstance(held_out, dict)
    if held_out["withheld_unsupported"] < TARGET_WITHHELD_UNSUPPORTED:
        raise CommandError(
            f"BELOW TARGET: the verifier withholds {held_out['withheld_unsupported']} of the held-out "
            f"unsupported sentences, under {TARGET_WITHHELD_UNSUPPORTED}",
            exit_code=1,
        )


def calibrate(
    corpus: Annotated[Path | None, typer.Option(help="Corpus to ingest (default: CITED_CORPUS_DIR).")] = None,
    questions: Annotated[Path | None, typer.Option(help="Question set (JSONL).")] = None,
    reports: ReportDirOption = None,
) -> None:
    """Measure the abstention threshold on a question set, in a temporary store built from the corpus."""
    from evals import questions as question_sets
    from evals.abstention import calibrate as run_calibration
    from evals.workspace import ingested

    settings = get_settings()
    with ingested(corpus or settings.corpus_dir) as temporary:
        result = run_calibration(
            temporary, question_sets.load(questions or question_sets.DEV_QUESTIONS), reports
        )
    chosen = result["chosen"]
    assert isinstance(chosen, dict)
    typer.echo(
        f"threshold {chosen['threshold']:.3f}: balanced accuracy {chosen['balanced_accuracy']:.3f} "
        f"(leave-one-out {result['leave_one_out_balanced_accuracy']:.3f}); "
        f"{result['quality_at_chosen_threshold']}. Report: {reports / 'abstention-calibration.md'}"
    )
