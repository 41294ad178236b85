"""The Gradio page at /ui: ask a question, read the answer, check each claim against its passage.

It calls the same :class:`AnswerService` as ``POST /ask``, in process, so the page and the API
always agree.
"""

from __future__ import annotations

import logging

import gradio as gr
from fastapi import FastAPI
from pydantic import ValidationError

from cited.users import UserStore
from service.answers import AnswerService, EmptyIndexError
from service.schemas import AskRequest
from ui.render import CSS, answer_html, error_html, passages_html

log = logging.getLogger("cited.ui")

EXAMPLES = [
    "When was the emergency working group set up?",
    "What is the name of Alibaba's large language model?",
    "Which platform hosted the online karaoke?",
    "What core values did Wu Yongming urge employees to refocus on?",
]


def respond(service: AnswerService, question: str, groups: frozenset[str] | None = None) -> tuple[str, str]:
    """(answer HTML, passages HTML) for one question, from the documents ``groups`` may read;
    errors become a readable message."""
    try:
        response = service.ask(AskRequest(question=question), groups)
    except ValidationError as exc:
        problem = exc.errors()[0]
        detail = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] == "string_too_long":
            detail = "the question is too long; keep it under 2,000 characters"
        return error_html(f"Please check the question: {detail}."), ""
    except EmptyIndexError as exc:
        return error_html(str(exc)), ""
    except Exception:
        log.exception("the page failed to answer %r", question)
        return error_html("Something went wrong on our side; it has been logged. Please try again."), ""
    return answer_html(response), passages_html(response)


def build_page(service: AnswerService, users: UserStore | None = None) -> gr.Blocks:
    """The page; with ``users`` (auth on) each visitor logs in and reads their groups' documents."""
    with gr.Blocks(title="Cited") as page:
        gr.Markdown(
            "# Cited\nAsk about the organisation's documents. Every sentence of the answer is quoted "
            "from a document and followed by its marker; the passages it comes from are listed below, "
            "with the quoted sentence highlighted."
        )
        with gr.Row(equal_height=True):
            question = gr.Textbox(
                label="Question",
                placeholder="e.g. When was the emergency working group set up?",
                max_lines=4,
                scale=5,
                elem_id="cited-question",
            )
            ask = gr.Button("Ask", variant="primary", scale=1, elem_id="cited-ask")
        gr.Examples(examples=EXAMPLES, inputs=question, label="Example questions")
        answer = gr.HTML(elem_id="cited-answer-box")
        passages = gr.HTML(elem_id="cited-passages-box")

        def on_ask(text: str, request: gr.Request) -> tuple[str, str]:
            if users is None:
                return respond(service, text)
            user = users.get(request.username or "")
            if user is None:  # removed since logging in
                return error_html("Your account is no longer valid. Please log in again."), ""
            return respond(service, text, frozenset(user.groups))

        for trigger in (ask.click, question.submit):
            trigger(on_ask, inputs=question, outputs=[answer, passages], api_name=False)
    return page


def mount(app: FastAPI, service: AnswerService, users: UserStore | None = None) -> None:
    """Mount the page at /ui; with ``users``, behind Gradio's login, checked against that store."""

    def login(name: str, password: str) -> bool:
        return users is not None and users.verify(name, password) is not None

    gr.mount_gradio_app(
        app,
        build_page(service, users),
        path="/ui",
        css=CSS,
        footer_links=[],
        auth=login if users is not None else None,
        auth_message="Log in with the account your administrator made with `cited users add`.",
    )
