"""The ``cited`` command line. Heavy libraries are imported inside commands so ``--help`` is instant."""

from __future__ import annotations

import typer

import cited  # noqa: F401  (sets the offline environment before anything else loads)
from cli import access, asking, auditing, benchmarks, evaluating, feedback, ingesting, serving, training
from cli.errors import CommandGroup

app = typer.Typer(
    name="cited",
    help="Cited: answers over your documents, every claim backed by the passage it came from.",
    no_args_is_help=True,
    add_completion=False,
    cls=CommandGroup,
)
app.command()(ingesting.ingest)
app.command()(serving.serve)
app.command()(asking.ask)
app.add_typer(benchmarks.bench, name="bench")
app.add_typer(training.train, name="train")
app.command()(evaluating.calibrate)
app.add_typer(evaluating.evaluate, name="eval")
app.add_typer(access.keys_app, name="keys")
app.add_typer(access.users_app, name="users")
app.add_typer(feedback.feedback_app, name="feedback")
app.command()(auditing.audit)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
