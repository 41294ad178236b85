"""What the page does when a reader acts: ask, open a passage, rate, comment, clear, add a file.

Each handler reads the reader from the request (``ui/readers.py``), so groups and limits are the
reader's own, and answers through the same call as ``POST /ask`` (``service/asking.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from cited.access.sessions import SessionStore
from cited.access.users import UserStore
from ingest.changes import CorpusChanges
from service.asking import Asking
from service.feedback import FeedbackError, FeedbackStore
from ui import conversation
from ui.conversation import Conversation
from ui.layout import Layout
from ui.readers import GONE, Reader
from ui.render import BUSY, document_choices, error_html, message_html, notice_html, panel_html, question_html
from ui.uploads import NOT_ADDED, add_document

RATINGS = {True: ("up", "Like"), False: ("down", "Dislike")}  # LikeData.liked: (stored, shown)
THANKS = {
    "up": "Thanks: answer {n} marked helpful. Anything to add?",
    "down": "Thanks: answer {n} marked not helpful. What was wrong or missing?",
}
NOT_SAVED = "Not saved."
_SCROLL_TO_ACTIVE = (
    "() => document.querySelector('#cited-panel .cited-active')"
    "?.scrollIntoView({block: 'nearest', behavior: 'smooth'})"
)


class PageEvents:
    def __init__(
        self,
        asking: Asking,
        feedback: FeedbackStore,
        users: UserStore | None,
        changes: CorpusChanges | None,
        parts: Layout,
        sessions: SessionStore | None = None,
    ) -> None:
        self.asking = asking
        self.feedback = feedback
        self.users = users  # None: auth off, or single sign-on
        self.sessions = sessions  # single sign-on's sessions; None without it
        self.changes = changes
        self.parts = parts

    def wire(self, page: gr.Blocks) -> None:
        """Connect every handler to its triggers."""
        p = self.parts
        for trigger in (p.ask.click, p.question.submit):
            trigger(
                self.on_ask,
                inputs=[p.question, p.search_in, p.session],
                outputs=[p.chat, p.session, p.panel, p.question, p.ask, p.status, p.search_in],
                api_name=False,
                show_progress="hidden",  # the chat shows its own "Searching the documents…"
            )
        p.open_button.click(
            self.on_open, inputs=[p.open_ref, p.session], outputs=p.panel, api_name=False
        ).then(None, js=_SCROLL_TO_ACTIVE)
        p.chat.like(
            self.on_rate,
            inputs=p.session,
            outputs=[p.feedback_box, p.rated, p.rated_turn, p.comment, p.session],
            api_name=False,
        )
        for trigger in (p.send.click, p.comment.submit):
            trigger(
                self.on_comment,
                inputs=[p.rated_turn, p.comment],
                outputs=[p.rated, p.comment],
                api_name=False,
            )
        p.chat.clear(
            self.on_clear, inputs=p.session, outputs=[p.session, p.panel, p.feedback_box], api_name=False
        )
        if p.upload is not None:
            p.upload.add.click(
                self.on_add, inputs=[p.upload.file, p.search_in], outputs=[p.upload.result, p.search_in],
                api_name=False,
            )  # fmt: skip
            page.load(self.on_load, outputs=[p.search_in, p.upload.box], api_name=False)
        else:
            page.load(self.on_load_documents, outputs=p.search_in, api_name=False)

    def documents_update(self, reader: Reader, chosen: list[str] | None = None) -> Any:
        """The "Search in" list: the documents this reader may read, keeping those still chosen."""
        readable = self.asking.documents(reader.caller) if reader.valid else []
        ids = {d.document_id for d in readable}
        return gr.update(choices=document_choices(readable), value=[d for d in chosen or [] if d in ids])

    def on_ask(
        self, text: str, chosen: list[str] | None, state: Conversation, request: gr.Request
    ) -> Iterator[dict[Any, Any]]:
        p = self.parts
        reader = Reader(self.users, request, self.sessions)
        if not reader.valid:
            yield {p.status: error_html(GONE)}
            return
        if problem := conversation.question_problem(text):
            yield {p.status: error_html(problem, "Not asked.")}  # the question stays, to be fixed
            return
        yield {
            p.chat: chat_update(state, [_user(text), _pending(BUSY)]),
            p.question: gr.update(value="", interactive=False),
            p.ask: gr.update(value="Answering…", interactive=False),
            p.status: "",
        }
        state.asked += 1
        # A generated answer arrives sentence by sentence, each once verified; the chat is redrawn
        # with what has been verified so far. Gradio closes this generator when the reader leaves,
        # which closes the turn's and so stops the model.
        history = state.history()
        for turn in conversation.answering(self.asking, state.asked, text, chosen, reader.caller, history):
            if turn.finished:
                break
            yield {p.chat: chat_update(state, [_user(text), _pending(message_html(turn))])}
        state.turns.append(turn)
        done: dict[Any, Any] = {
            p.chat: chat_update(state),
            p.session: state,
            p.panel: panel_html(turn),
            p.question: gr.update(interactive=True),
            p.ask: gr.update(value="Ask", interactive=True),
        }
        if turn.stale_documents:
            done[p.search_in] = self.documents_update(reader, chosen)
        yield done

    def on_open(self, ref: str, state: Conversation) -> str:
        number, _, n = ref.partition("-")
        turn = state.turn_numbered(int(number)) if number.isdigit() else None
        if turn is None:  # e.g. a marker of an answer cleared from the chat
            return panel_html(None)
        return panel_html(turn, int(n) if n.isdigit() else None)

    def on_rate(self, state: Conversation, liked: gr.LikeData, request: gr.Request) -> dict[Any, Any]:
        p = self.parts
        index = liked.index if isinstance(liked.index, int) else liked.index[0]
        turn = state.turn_at(index)
        if turn is None:
            missing = error_html("That answer is not on the page (still coming, or cleared).")
            return {p.feedback_box: gr.update(visible=True), p.rated: missing}
        session_id = request.session_hash or "anonymous"
        rating, shown = RATINGS.get(liked.liked, (None, None))  # None (un-clicked): no rating
        turn.rating = shown  # so the chat shows the thumb again when it is redrawn
        if rating is None:  # the thumb was clicked again: the rating is taken back
            self.feedback.retract(session_id, turn.number)
            message, rated_now = notice_html(f"Rating of answer {turn.number} removed."), 0
        else:
            reader = Reader(self.users, request, self.sessions).name
            self.feedback.rate(session_id, turn.number, rating, turn.answered(), reader)
            message, rated_now = notice_html(THANKS[rating].format(n=turn.number)), turn.number
        return {
            p.feedback_box: gr.update(visible=True),
            p.rated: message,
            p.rated_turn: rated_now,
            p.comment: "",
            p.session: state,
        }

    def on_comment(self, number: int, text: str, request: gr.Request) -> tuple[str, Any]:
        if not number:
            return error_html(
                "Rate an answer with a thumb first; the comment goes with it.", NOT_SAVED
            ), gr.skip()
        if not text.strip():
            return error_html("Write a comment first.", NOT_SAVED), gr.skip()
        try:
            self.feedback.comment(request.session_hash or "anonymous", number, text)
        except FeedbackError as exc:
            return error_html(str(exc), NOT_SAVED), gr.skip()
        return notice_html(f"Comment saved with your rating of answer {number}."), ""

    def on_clear(self, state: Conversation) -> tuple[Conversation, str, Any]:
        state.clear()
        return state, panel_html(None), gr.update(visible=False)

    def on_load(self, request: gr.Request) -> tuple[Any, Any]:
        reader = Reader(self.users, request, self.sessions)
        return self.documents_update(reader), gr.update(visible=reader.can_upload)

    def on_load_documents(self, request: gr.Request) -> Any:
        return self.documents_update(Reader(self.users, request, self.sessions))

    def on_add(self, path: str | None, chosen: list[str] | None, request: gr.Request) -> tuple[str, Any]:
        reader = Reader(self.users, request, self.sessions)
        if self.changes is None or not reader.can_upload:  # checked here too: a hidden button can be called
            message = "Your account may not add documents; ask your administrator."
            return error_html(message, NOT_ADDED), gr.skip()
        return add_document(self.changes, path, reader.groups), self.documents_update(reader, chosen)


def _pending(html: str) -> dict[str, str]:
    return {"role": "assistant", "content": html}


def _user(text: str) -> dict[str, str]:
    return {"role": "user", "content": question_html(text)}


def chat_update(state: Conversation, pending: list[dict[str, str]] | None = None) -> Any:
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
