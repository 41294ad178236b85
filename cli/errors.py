"""The one error a command raises to stop: its message and the exit code it stops with."""

from __future__ import annotations

import typer


class CommandError(typer.Exit):
    """Stops a command with ``error: <message>`` in red on standard error and exit ``exit_code``:
    2 for bad input (the default), 1 for a run that finished but fell short (files that could not
    be read, a metric below its threshold).

    It is a ``typer.Exit``, which Typer turns into the exit code without printing anything, so the
    message is printed as the error is made. (Typer prints a ``ClickException`` itself, in a rich
    panel that wraps lines and hides the exit code.) A command tested in-process through
    ``typer.testing.CliRunner`` stops exactly as the real process does.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(exit_code)
        self.message = message
        typer.secho(f"error: {message}", fg="red", err=True)
