"""The Gradio page at /ui: a conversation whose every answer can be checked against its passages.

- The chat keeps the session's questions and answers. Each answer's [n] markers show the quote on
  hover and, on click, open the passage in the side panel with the quoted sentence highlighted.
- The side panel lists the passages of the latest answer (or of the answer whose marker was
  clicked); above it, a document filter limits the search to chosen documents.
- Thumbs up/down on an answer are stored with what was shown (``service/feedback.py``), and a
  comment can follow.
- With auth on, each visitor logs in and reads only their groups' documents; visitors who may
  upload get the "Add or replace a document" box.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI

from cited.users import UserStore
from ingest.loading import SUPPORTED_SUFFIXES
from service.answers import AnswerService
from service.corpus_changes import CorpusChangeError, CorpusChanges
from service.feedback import FeedbackError, FeedbackStore
from ui import conversation
from ui.conversation import Conversation
from ui.render import (
    BUSY,
    CSS,
    document_choices,
    error_html,
    message_html,
    notice_html,
    panel_html,
    question_html,
)

log = logging.getLogger("cited.ui")

NOT_ADDED = "Not added."
SCRIPT = (Path(__file__).parent / "citations.js").read_text(encoding="utf-8")
RATINGS = {True: ("up", "Like"), False: ("down", "Dislike")}  # LikeData.liked: (stored, shown)
THANKS = {
    "up": "Thanks: answer {n} marked helpful. Anything to add?",
    "down": "Thanks: answer {n} marked not helpful. What was wrong or missing?",
}

EXAMPLES = [
    "When was the emergency working group set up?",
    "What is the name of Alibaba's large language model?",
    "Which platform hosted the online karaoke?",
    "What core values did Wu Yongming urge employees to refocus on?",
]


class Reader:
    """Who is on the page: their groups (None with auth off: everything) and what they may do."""

    def __init__(self, users: UserStore | None, request: gr.Request) -> None:
        self.name: str | None = None
        self.groups: frozenset[str] | None = None
        self.can_upload = users is None
        self.valid = True
        if users is not None:
            self.name = request.username or ""
            user = users.get(self.name)
            self.valid = user is not None  # removed since logging in
            self.groups = frozenset(user.groups) if user else frozenset()
            self.can_upload = user is not None and user.can_upload


GONE = "Your account is no longer valid. Please log in again."


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
    service: AnswerService,
    feedback: FeedbackStore,
    users: UserStore | None = None,
    changes: CorpusChanges | None = None,
) -> gr.Blocks:
    """The page; with ``users`` (auth on) each visitor logs in and reads their groups' documents.
    With ``changes``, a visitor who may upload (everyone with auth off) can add documents."""

    def scope_update(reader: Reader, chosen: list[str] | None = None) -> Any:
        readable = service.documents(reader.groups) if reader.valid else []
        ids = {d.document_id for d in readable}
        return gr.update(choices=document_choices(readable), value=[d for d in chosen or [] if d in ids])

    with gr.Blocks(title="Cited") as page:
        session = gr.State(Conversation())
        rated_turn = gr.State(0)
        gr.Markdown(
            "# Cited\nAsk about the organisation's documents. Every sentence of an answer is quoted from "
            "a document; hover over its [n] marker to preview the quote, click it to open the passage."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=480):
                chat = gr.Chatbot(
                    label="Conversation",
                    elem_id="cited-chat",
                    height=440,
                    buttons=[],  # copy would copy the message's HTML, share needs Hugging Face
                    latex_delimiters=[],  # "$" in a document is a dollar, not mathematics
                    placeholder="Ask a question below. Each question is answered on its own, "
                    "so name what you ask about (“When was the emergency working group set up?”).",
                    feedback_options=("Like", "Dislike"),
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Ask about the documents…",
                        max_lines=4,
                        scale=5,
                        elem_id="cited-question",
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="cited-ask")
                status = gr.HTML(elem_id="cited-status")
                with gr.Group(visible=False, elem_id="cited-feedback") as feedback_box:
                    rated = gr.HTML(elem_id="cited-rated")
                    with gr.Row(equal_height=True):
                        comment = gr.Textbox(
                            label="Comment (optional)",
                            max_lines=3,
                            scale=5,
                            elem_id="cited-comment",
                        )
                        send = gr.Button(
                            "Send comment", scale=1, min_width=140, size="md", elem_id="cited-send-comment"
                        )
                gr.Examples(examples=EXAMPLES, inputs=question, label="Example questions")
            with gr.Column(scale=2, min_width=320):
                scope = gr.Dropdown(
                    label="Search in",
                    info="Leave empty to search every document you may read.",
                    choices=[],
                    value=[],
                    multiselect=True,
                    elem_id="cited-scope",
                )
                panel = gr.HTML(panel_html(None), elem_id="cited-panel")
        # Hidden (in the page, not shown): citations.js writes the clicked marker here.
        open_ref = gr.Textbox(visible="hidden", elem_id="cited-open-ref")
        open_button = gr.Button(visible="hidden", elem_id="cited-open")

        def on_ask(
            text: str, chosen: list[str] | None, state: Conversation, request: gr.Request
        ) -> Iterator[dict[Any, Any]]:
            reader = Reader(users, request)
            if not reader.valid:
                yield {status: error_html(GONE)}
                return
            if problem := conversation.question_problem(text):
                yield {status: error_html(problem, "Not asked.")}  # the question stays, to be fixed
                return
            busy = {"role": "assistant", "content": BUSY}
            yield {
                chat: _chat(state, [_user(text), busy]),
                question: gr.update(value="", interactive=False),
                ask: gr.update(value="Answering…", interactive=False),
                status: "",
            }
            state.asked += 1
            turn = conversation.answer(service, state.asked, text, chosen, reader.groups)
            state.turns.append(turn)
            done: dict[Any, Any] = {
                chat: _chat(state),
                session: state,
                panel: panel_html(turn),
                question: gr.update(interactive=True),
                ask: gr.update(value="Ask", interactive=True),
            }
            if turn.stale_documents:
                done[scope] = scope_update(reader, chosen)
            yield done

        for trigger in (ask.click, question.submit):
            trigger(
                on_ask,
                inputs=[question, scope, session],
                outputs=[chat, session, panel, question, ask, status, scope],
                api_name=False,
                show_progress="hidden",  # the chat shows its own "Searching the documents…"
            )

        def on_open(ref: str, state: Conversation) -> str:
            number, _, n = ref.partition("-")
            turn = state.turn_numbered(int(number)) if number.isdigit() else None
            if turn is None:  # e.g. a marker of an answer cleared from the chat
                return panel_html(None)
            return panel_html(turn, int(n) if n.isdigit() else None)

        open_button.click(on_open, inputs=[open_ref, session], outputs=panel, api_name=False).then(
            None,
            js="() => document.querySelector('#cited-panel .cited-active')"
            "?.scrollIntoView({block: 'nearest', behavior: 'smooth'})",
        )

        def on_rate(state: Conversation, liked: gr.LikeData, request: gr.Request) -> dict[Any, Any]:
            index = liked.index if isinstance(liked.index, int) else liked.index[0]
            turn = state.turn_at(index)
            if turn is None:
                missing = error_html("That answer is not on the page (still coming, or cleared).")
                return {feedback_box: gr.update(visible=True), rated: missing}
            session_id = request.session_hash or "anonymous"
            rating, shown = RATINGS.get(liked.liked, (None, None))  # None (un-clicked): no rating
            turn.rating = shown  # so the chat shows the thumb again when it is redrawn
            if rating is None:  # the thumb was clicked again: the rating is taken back
                feedback.retract(session_id, turn.number)
                message, rated_now = notice_html(f"Rating of answer {turn.number} removed."), 0
            else:
                feedback.rate(session_id, turn.number, rating, turn.answered(), Reader(users, request).name)
                message, rated_now = notice_html(THANKS[rating].format(n=turn.number)), turn.number
            return {
                feedback_box: gr.update(visible=True),
                rated: message,
                rated_turn: rated_now,
                comment: "",
                session: state,
            }

        chat.like(
            on_rate,
            inputs=session,
            outputs=[feedback_box, rated, rated_turn, comment, session],
            api_name=False,
        )

        def on_comment(number: int, text: str, request: gr.Request) -> tuple[str, Any]:
            if not number:
                return error_html(
                    "Rate an answer with a thumb first; the comment goes with it.", "Not saved."
                ), gr.skip()
            if not text.strip():
                return error_html("Write a comment first.", "Not saved."), gr.skip()
            try:
                feedback.comment(request.session_hash or "anonymous", number, text)
            except FeedbackError as exc:
                return error_html(str(exc), "Not saved."), gr.skip()
            return notice_html(f"Comment saved with your rating of answer {number}."), ""

        for trigger in (send.click, comment.submit):
            trigger(on_comment, inputs=[rated_turn, comment], outputs=[rated, comment], api_name=False)

        def on_clear(state: Conversation) -> tuple[Conversation, str, Any]:
            state.clear()
            return state, panel_html(None), gr.update(visible=False)

        chat.clear(on_clear, inputs=session, outputs=[session, panel, feedback_box], api_name=False)

        def on_load(request: gr.Request) -> tuple[Any, Any]:
            reader = Reader(users, request)
            return scope_update(reader), gr.update(visible=reader.can_upload)

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

            def on_add(path: str | None, chosen: list[str] | None, request: gr.Request) -> tuple[str, Any]:
                reader = Reader(users, request)
                if not reader.can_upload:  # checked here too: a hidden button can still be called
                    message = "Your account may not add documents; ask your administrator."
                    return error_html(message, NOT_ADDED), gr.skip()
                return add_document(changes, path, reader.groups), scope_update(reader, chosen)

            add.click(on_add, inputs=[upload, scope], outputs=[added, scope], api_name=False)
            page.load(on_load, outputs=[scope, add_box], api_name=False)
        else:

            def on_load_scope(request: gr.Request) -> Any:
                return scope_update(Reader(users, request))

            page.load(on_load_scope, outputs=scope, api_name=False)
    return page


def _user(text: str) -> dict[str, str]:
    return {"role": "user", "content": question_html(text)}


def _chat(state: Conversation, pending: list[dict[str, str]] | None = None) -> Any:
    """The chat redrawn from the session, with each answer's thumb as the reader left it (Gradio
    forgets them on every redraw otherwise), plus ``pending`` messages of a question being answered."""
    messages = []
    for turn in state.turns:
        messages.append(_user(turn.question))
        messages.append({"role": "assistant", "content": message_html(turn)})
    ratings = [turn.rating for turn in state.turns]
    if pending:
        messages.extend(pending)
        ratings.append(None)
    return gr.update(value=messages, feedback_value=ratings)


def mount(
    app: FastAPI,
    service: AnswerService,
    feedback: FeedbackStore,
    users: UserStore | None = None,
    changes: CorpusChanges | None = None,
    max_upload_bytes: int | None = None,
) -> None:
    """Mount the page at /ui; with ``users``, behind Gradio's login, checked against that store."""

    def login(name: str, password: str) -> bool:
        return users is not None and users.verify(name, password) is not None

    gr.mount_gradio_app(
        app,
        build_page(service, feedback, users, changes),
        path="/ui",
        max_file_size=max_upload_bytes,
        css=CSS,
        head=f"<script>{SCRIPT}</script>",
        footer_links=[],
        auth=login if users is not None else None,
        auth_message="Log in with the account your administrator made with `cited users add`.",
    )
