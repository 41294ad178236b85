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

from collections.abc import Callable
from pathlib import Path

import gradio as gr
from fastapi import FastAPI, Request

from cited.access.sessions import SessionStore
from cited.access.users import UserStore
from cited.settings import Settings
from ingest.changes import CorpusChanges
from service.asking import Asking
from service.feedback import FeedbackStore
from ui.events import PageEvents
from ui.layout import lay_out
from ui.render import CSS

SCRIPT = (Path(__file__).parent / "citations.js").read_text(encoding="utf-8")


def build_page(
    asking: Asking,
    feedback: FeedbackStore,
    users: UserStore | None = None,
    changes: CorpusChanges | None = None,
    sessions: SessionStore | None = None,
) -> gr.Blocks:
    """The page (``ui/layout.py``) and what it does (``ui/events.py``). With ``users`` (auth on)
    or ``sessions`` (single sign-on) each visitor reads their groups' documents; with ``changes``,
    a visitor who may upload (everyone with auth off) can add documents."""
    with gr.Blocks(title="Cited") as page:
        open_page = users is None and sessions is None
        parts = lay_out(uploads=changes is not None, upload_visible=open_page, sign_out=sessions is not None)
        PageEvents(asking, feedback, users, changes, parts, sessions).wire(page)
    return page


def mount(
    app: FastAPI,
    asking: Asking,
    feedback: FeedbackStore,
    users: UserStore | None,
    changes: CorpusChanges | None,
    settings: Settings,
    sessions: SessionStore | None = None,
    signed_in: Callable[[Request], str | None] | None = None,
) -> None:
    """Mount the page at /ui; with ``users``, behind Gradio's login, checked against that store;
    with ``sessions``, behind single sign-on, ``signed_in`` giving the session id of a request."""

    def login(name: str, password: str) -> bool:
        return users is not None and users.verify(name, password) is not None

    gr.mount_gradio_app(
        app,
        build_page(asking, feedback, users, changes, sessions),
        path="/ui",
        max_file_size=settings.max_upload_bytes,
        css=CSS,
        head=f"<script>{SCRIPT}</script>",
        footer_links=[],
        auth=login if users is not None else None,
        auth_dependency=signed_in,
        auth_message="Log in with the account your administrator made with `cited users add`.",
    )
