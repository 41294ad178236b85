"""The Gradio page at /ui: ask a question, read the answer, check each claim against its passage.

It calls the same :class:`AnswerService` as ``POST /ask``, in process, so the page and the API
always agree.
"""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr
from fastapi import FastAPI
from pydantic import ValidationError

from cited.users import UserStore
from ingest.loading import SUPPORTED_SUFFIXES
from service.answers import AnswerService, EmptyIndexError
from service.corpus_changes import CorpusChangeError, CorpusChanges
from service.schemas import AskRequest
from ui.render import CSS, answer_html, error_html, notice_html, passages_html

log = logging.getLogger("cited.ui")

NOT_ADDED = "Not added."

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


def add_document(changes: CorpusChanges, path: str | None, groups: frozenset[str] | None) -> str:
    """Upload one file from the page through the same path as POST /documents; a message back."""
    if not path:
        return error_html("Choose a file first (.txt .md .html .pdf .docx).", NOT_ADDED)
    file = Path(path)
    try:
        change = changes.upload(file.name, file.read_bytes(), groups)
    except CorpusChangeError as exc:
        return error_html(exc.message, NOT_ADDED)
    except Exception:
        log.exception("the page failed to add %s", file.name)
        return error_html(
            "Something went wrong on our side; it has been logged. Please try again.", NOT_ADDED
        )
    verbs = {
        "added": "Added",
        "replaced": "Replaced",
        "unchanged": "Already indexed, unchanged:",
        "duplicate": "Already indexed as",
    }
    return notice_html(
        f"{verbs.get(change.status, change.status)} {change.source} ({change.chunks} passages, readable by "
        f"{', '.join(change.groups)}). You can ask about it now."
    )


def build_page(
    service: AnswerService, users: UserStore | None = None, changes: CorpusChanges | None = None
) -> gr.Blocks:
    """The page; with ``users`` (auth on) each visitor logs in and reads their groups' documents.
    With ``changes``, a visitor who may upload (everyone with auth off) can add documents."""
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

        if changes is not None:
            with gr.Accordion("Add or replace a document", open=False, visible=users is None) as add_box:
                upload = gr.File(
                    label="Document (" + " ".join(sorted(SUPPORTED_SUFFIXES)) + ")",
                    file_types=sorted(SUPPORTED_SUFFIXES),
                    type="filepath",
                    elem_id="cited-upload",
                )
                add = gr.Button("Add to the documents", elem_id="cited-add")
                added = gr.HTML(elem_id="cited-added")

            def may_upload(request: gr.Request) -> tuple[bool, frozenset[str] | None]:
                if users is None:
                    return True, None
                user = users.get(request.username or "")
                return (user is not None and user.can_upload), frozenset(user.groups) if user else frozenset()

            def on_add(path: str | None, request: gr.Request) -> str:
                allowed, groups = may_upload(request)
                if not allowed:  # checked here too: a hidden button can still be called
                    return error_html(
                        "Your account may not add documents; ask your administrator.", NOT_ADDED
                    )
                return add_document(changes, path, groups)

            def on_load(request: gr.Request) -> dict[str, object]:
                return gr.update(visible=may_upload(request)[0])

            add.click(on_add, inputs=upload, outputs=added, api_name=False)
            if users is not None:
                page.load(on_load, outputs=add_box, api_name=False)
    return page


def mount(
    app: FastAPI,
    service: AnswerService,
    users: UserStore | None = None,
    changes: CorpusChanges | None = None,
    max_upload_bytes: int | None = None,
) -> None:
    """Mount the page at /ui; with ``users``, behind Gradio's login, checked against that store."""

    def login(name: str, password: str) -> bool:
        return users is not None and users.verify(name, password) is not None

    gr.mount_gradio_app(
        app,
        build_page(service, users, changes),
        path="/ui",
        max_file_size=max_upload_bytes,
        css=CSS,
        footer_links=[],
        auth=login if users is not None else None,
        auth_message="Log in with the account your administrator made with `cited users add`.",
    )
