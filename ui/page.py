"""The Gradio page at /ui: ask a question, read the answer, check each claim against its passage.

It calls the same :class:`AnswerService` as ``POST /ask``, in process, so the page and the API
always agree.
"""

from __future__ import annotations

import logging

import gradio as gr
from fastapi import FastAPI
from pydantic import ValidationError

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


def respond(service: AnswerService, question: str) -> tuple[str, str]:
    """(answer HTML, passages HTML) for one question; errors become a readable message."""
    try:
        response = service.ask(AskRequest(question=question))
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


def build_page(service: AnswerService) -> gr.Blocks:
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

        def on_ask(text: str) -> tuple[str, str]:
            return respond(service, text)

        for trigger in (ask.click, question.submit):
            trigger(on_ask, inputs=question, outputs=[answer, passages], api_name=False)
    return page


def mount(app: FastAPI, service: AnswerService) -> None:
    gr.mount_gradio_app(app, build_page(service), path="/ui", css=CSS, footer_links=[])
