"""The one error a command raises to stop, and the one place where a domain error becomes an exit code."""

from __future__ import annotations

import os
from typing import Any

import click
import typer
from typer.core import TyperGroup

from cited.errors import BusyError, CitedError, DependencyError, TimedOutError

# sysexits(3): something Cited relies on is down (EX_UNAVAILABLE), or busy or slow, so the same
# command may work later (EX_TEMPFAIL). Everything else the user must fix first: 2, as bad input.
_EXIT_CODES: tuple[tuple[type[CitedError], int], ...] = (
    (BusyError, os.EX_TEMPFAIL),
    (TimedOutError, os.EX_TEMPFAIL),
    (DependencyError, os.EX_UNAVAILABLE),
)


def exit_code_of(error: CitedError) -> int:
    """The exit code a command stops with when the core refuses with ``error``."""
    return next((code for kind, code in _EXIT_CODES if isinstance(error, kind)), 2)


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

    @classmethod
    def from_error(cls, error: CitedError) -> CommandError:
        """A domain error's message, with the exit code of its kind."""
        return cls(error.message, exit_code_of(error))


class CommandGroup(TyperGroup):
    """The ``cited`` group: a domain error that a command lets through stops it as a
    :class:`CommandError` would, with its message and the exit code of its kind, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from pydantic import ValidationError

        try:
            return super().invoke(ctx)
        except CitedError as error:
            raise CommandError.from_error(error) from None
        except ValidationError as error:  # settings from the environment that cannot be used
            problems = "; ".join(
                f"CITED_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" if e["loc"] else e["msg"]
                for e in error.errors()
            )
            raise CommandError(f"the settings cannot be used: {problems}") from None
