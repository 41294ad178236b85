"""What the page shows, and where: its components, built inside the page's ``gr.Blocks``."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ingest.formats import SUPPORTED_SUFFIXES
from ui.conversation import Conversation
from ui.render import panel_html

EXAMPLES = [
    "When was the emergency working group set up?",
    "What is the name of Alibaba's large language model?",
    "Which platform hosted the online karaoke?",
    "What core values did Wu Yongming urge employees to refocus on?",
]


@dataclass(frozen=True)
class UploadBox:
    box: gr.Accordion
    file: gr.File
    add: gr.Button
    result: gr.HTML


@dataclass(frozen=True)
class Layout:
    session: gr.State  # the session's Conversation
    rated_turn: gr.State  # the turn the comment box is about; 0: none
    chat: gr.Chatbot
    question: gr.Textbox
    ask: gr.Button
    status: gr.HTML  # under the question: why it was not asked
    feedback_box: gr.Group
    rated: gr.HTML
    comment: gr.Textbox
    send: gr.Button
    search_in: gr.Dropdown  # the documents a reader limits the search to
    panel: gr.HTML
    open_ref: gr.Textbox  # hidden: the marker citations.js reports clicked
    open_button: gr.Button  # hidden: clicked by citations.js
    upload: UploadBox | None


def lay_out(uploads: bool, upload_visible: bool, sign_out: bool = False) -> Layout:
    """The components, in page order; call inside ``gr.Blocks``. With ``uploads``, the "Add or
    replace a document" box too, shown at first only when ``upload_visible``; with ``sign_out``
    (single sign-on), a link that ends the session."""
    session = gr.State(Conversation())
    rated_turn = gr.State(0)
    gr.Markdown(
        "# Cited\nAsk about the organisation's documents. Every sentence of an answer is quoted from "
        "a document; hover over its [n] marker to preview the quote, click it to open the passage."
    )
    if sign_out:
        # In this tab: Gradio opens a Markdown link in a new one, where the page would stay open.
        leave = gr.Button("Sign out", size="sm", variant="secondary", elem_id="cited-sign-out")
        leave.click(None, js="() => { window.location.assign('/auth/logout'); }")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=480):
            chat = gr.Chatbot(
                label="Conversation",
                elem_id="cited-chat",
                height=440,
                buttons=[],  # copy would copy the message's HTML, share needs Hugging Face
                latex_delimiters=[],  # "$" in a document is a dollar, not mathematics
                placeholder="Ask a question below; a follow-up (“And when did they set it up?”) is "
                "read with the questions before it.",
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
                        label="Comment (optional)", max_lines=3, scale=5, elem_id="cited-comment"
                    )
                    send = gr.Button(
                        "Send comment", scale=1, min_width=140, size="md", elem_id="cited-send-comment"
                    )
            gr.Examples(examples=EXAMPLES, inputs=question, label="Example questions")
        with gr.Column(scale=2, min_width=320):
            search_in = gr.Dropdown(
                label="Search in",
                info="Leave empty to search every document you may read.",
                choices=[],
                value=[],
                multiselect=True,
                elem_id="cited-search-in",
            )
            panel = gr.HTML(panel_html(None), elem_id="cited-panel")
    # Hidden (in the page, not shown): citations.js writes the clicked marker here.
    open_ref = gr.Textbox(visible="hidden", elem_id="cited-open-ref")
    open_button = gr.Button(visible="hidden", elem_id="cited-open")
    upload = None
    if uploads:
        with gr.Accordion("Add or replace a document", open=False, visible=upload_visible) as box:
            file = gr.File(
                label="Document (" + " ".join(sorted(SUPPORTED_SUFFIXES)) + ")",
                file_types=sorted(SUPPORTED_SUFFIXES),
                type="filepath",
                elem_id="cited-upload",
            )
            add = gr.Button("Add to the documents", elem_id="cited-add")
            result = gr.HTML(elem_id="cited-added")
        upload = UploadBox(box, file, add, result)
    return Layout(
        session, rated_turn, chat, question, ask, status, feedback_box, rated, comment, send,
        search_in, panel, open_ref, open_button, upload,
    )  # fmt: skip
