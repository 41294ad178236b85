"""`cited ask`: one question from the command line."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from cli.errors import CommandError
from cli.options import DataDirOption, settings_for


def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    top_k: Annotated[int | None, typer.Option(min=1, max=20, help="Passages to retrieve.")] = None,
    earlier: Annotated[
        list[str] | None,
        typer.Option(
            "--earlier",
            help="An earlier question of the conversation, oldest first (repeat for more): the "
            "question is then read as a follow-up to them.",
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Answer one question from the command line and print the JSON the API would return."""
    from pydantic import ValidationError

    from service.answering.answer_service import AnswerService
    from service.answering.ask_schema import AskRequest

    settings = settings_for(data_dir)
    try:
        history = [{"question": q} for q in earlier or []] or None
        request = AskRequest.model_validate(
            {"question": question, "top_k": top_k or settings.top_k, "history": history}
        )
        response = AnswerService.from_settings(settings).ask(request)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise CommandError(f"{where}: {problem['msg']}" if where else problem["msg"]) from exc
    json.dump(response.model_dump(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
