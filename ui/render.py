"""HTML for the page. Every piece of document text is escaped here, and only here: Gradio's HTML
component inserts markup as-is, so an unescaped ``<img onerror=...>`` in a document would run.
The chat's own sanitiser is left on as a second guard.

Chat messages are wrapped in a ``<div>`` with no blank line inside: Markdown leaves such a block
alone, so ``*`` and ``_`` in a quoted sentence stay characters instead of becoming emphasis.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from service.answering.ask_schema import AskResponse, Citation, DocumentInfo
from ui.conversation import Turn

_MARKER = re.compile(r" \[(\d+)\](?= |$)")
_HINT_CHARS = 280

NOT_FOUND = (
    "Cited answers only from the indexed documents, and nothing in them is about this question. "
    "Try other words, or ask about something the documents cover."
)
CLOSEST_HEADING = "Not sure these answer your question"
CLOSEST_NOTE = (
    "No passage was found to answer it for sure; these are the closest, best first, with the "
    "sentence nearest your question highlighted."
)
_CARD_CHARS = 600
PANEL_EMPTY = (
    "The passages of the latest answer appear here. Click a [n] marker in any answer to open the "
    "passage it quotes; hover over one to preview the quote."
)


def _one_line(text: str) -> str:
    # A blank line would end the HTML block and hand the rest to Markdown.
    return " ".join(text.split())


def _where(citation: Citation) -> str:
    where = citation.source + (f", page {citation.page}" if citation.page else "")
    where += f", slide {citation.slide}" if citation.slide else ""
    where += " (read by OCR)" if citation.ocr else ""
    if citation.document_date:
        where += f", dated {citation.document_date}" + (
            " (file date)" if citation.date_source == "file" else ""
        )
    return where


def marker_link(turn: int, citation: Citation) -> str:
    quote = _one_line(citation.quote)
    if len(quote) > _HINT_CHARS:
        quote = quote[: _HINT_CHARS - 1] + "…"
    hint = f"{citation.title} ({_where(citation)}): “{quote}”"
    return (
        f'<a class="cited-marker" href="#cited-{turn}-{citation.id}" '
        f'title="{escape(hint, quote=True)}">[{citation.id}]</a>'
    )


def _withheld_note(count: int) -> str:
    if not count:
        return ""
    sentences = "sentence was" if count == 1 else "sentences were"
    return f" {count} generated {sentences} withheld: the passages cited do not back them."


def mode_html(response: AskResponse) -> str:
    """Which mode answered: a generated answer names its model (and how many of its sentences were
    withheld); a quoted one that stands in for a withheld generated answer says why (the notice)."""
    if response.mode == "generated":
        model = escape(response.model or "a language model")
        return (
            f'<div class="cited-mode">Written by {model}; each sentence was checked against the '
            f"passage it cites.{_withheld_note(len(response.unsupported))}</div>"
        )
    if response.notice:
        return f'<div class="cited-mode">{escape(_one_line(response.notice))}</div>'
    return ""


def _highlighted(text: str, quote: str, limit: int | None = None) -> str:
    """``text`` escaped, with ``quote`` marked; cut to about ``limit`` characters around it."""
    at = text.find(quote) if quote else -1
    if at < 0:
        shown = text if limit is None or len(text) <= limit else text[: limit - 1] + "…"
        return escape(shown)
    before, after = text[:at], text[at + len(quote) :]
    if limit is not None:
        room = max(limit - len(quote), 0)
        before = ("…" + before[-room // 2 :]) if len(before) > room // 2 else before
        after = (after[: room // 2] + "…") if len(after) > room // 2 else after
    return f"{escape(before)}<mark>{escape(quote)}</mark>{escape(after)}"


def closest_card(turn: int, citation: Citation) -> str:
    """One closest passage in the chat: where it is from, and its best sentence highlighted."""
    return (
        f'<div class="cited-closest-card">'
        f'<div class="cited-where">{marker_link(turn, citation)} <strong>{escape(citation.title)}</strong> · '
        f"{escape(_where(citation))}</div>"
        f'<div class="cited-text">{_highlighted(citation.text, citation.quote, _CARD_CHARS)}</div></div>'
    )


def closest_html(turn: int, response: AskResponse) -> str:
    cards = "".join(closest_card(turn, c) for c in response.citations)
    return (
        f'<div class="cited-closest" role="status"><strong>{escape(CLOSEST_HEADING)}</strong> '
        f'<span class="cited-closest-note">{escape(CLOSEST_NOTE)}</span>{cards}</div>'
    )


def searched_note(response: AskResponse, question: str) -> str:
    """What was searched, when a follow-up was searched with the conversation's context."""
    searched = response.searched_question
    if not searched or searched == question:
        return ""
    return f'<div class="cited-searched-as">Searched as: {escape(_one_line(searched))}</div>'


def answer_html(turn: int, response: AskResponse) -> str:
    if response.outcome == "closest":
        return closest_html(turn, response) + mode_html(response)
    if response.abstained:
        return (
            '<div class="cited-notfound" role="status"><strong>Not found in the documents.</strong> '
            f"{escape(NOT_FOUND)}</div>" + mode_html(response)
        )
    by_id = {c.id: c for c in response.citations}

    def link(match: re.Match[str]) -> str:
        citation = by_id.get(int(match.group(1)))
        return match.group(0) if citation is None else " " + marker_link(turn, citation)

    body = _MARKER.sub(link, escape(_one_line(response.answer), quote=False))
    return f'<div class="cited-answer">{body}</div>' + mode_html(response)


def scope_note(titles: Sequence[str]) -> str:
    if not titles:
        return ""
    return f'<div class="cited-searched-only">Searched only: {escape(_one_line(", ".join(titles)))}</div>'


def question_html(question: str) -> str:
    """The reader's own question, shown as typed (not as Markdown or HTML)."""
    return f'<div class="cited-question-text">{escape(_one_line(question))}</div>'


def message_html(turn: Turn) -> str:
    """The assistant's chat message for ``turn``; while it is being answered, what has been
    verified so far."""
    if not turn.finished:
        return writing_html(turn)
    if turn.response is None:
        return error_html(turn.error or "", "Could not answer.")
    return (
        answer_html(turn.number, turn.response)
        + searched_note(turn.response, turn.question)
        + scope_note(turn.searched)
    )


def writing_html(turn: Turn) -> str:
    """A generated answer being written: the sentences verified so far, markers not yet linked
    (the citations are numbered once the answer is complete), and what is happening now."""
    if turn.found is None:
        return BUSY
    sentences = " ".join(
        _MARKER.sub(
            r' <span class="cited-marker-pending">[\1]</span>', escape(_one_line(s.text), quote=False)
        )
        for s in turn.shown
    )
    body = f'<div class="cited-writing">{sentences}</div>' if sentences else ""
    status = (
        f"Writing an answer from {turn.found} passage{'s' if turn.found != 1 else ''}; each sentence "
        f"appears once its citation is checked.{_withheld_note(turn.withheld)}"
    )
    return (
        f'{body}<div class="cited-busy" role="status" aria-live="polite"><span class="cited-spinner" '
        f'aria-hidden="true"></span> {escape(status)}</div>'
    )


BUSY = (
    '<div class="cited-busy" role="status" aria-live="polite"><span class="cited-spinner" '
    'aria-hidden="true"></span> Searching the documents…</div>'
)


def passage_html(turn: int, citation: Citation, active: bool = False) -> str:
    body = _highlighted(citation.text, citation.quote)
    classes = "cited-passage cited-active" if active else "cited-passage"
    return (
        f'<article class="{classes}" id="cited-passage-{turn}-{citation.id}">'
        f'<header><span class="cited-n">[{citation.id}]</span> <strong>{escape(citation.title)}</strong>'
        f'<div class="cited-where">{escape(_where(citation))} · characters {citation.start}–{citation.end}'
        f" · relevance {citation.score:.2f}</div></header>"
        f'<div class="cited-text">{body}</div></article>'
    )


def panel_html(turn: Turn | None, active: int | None = None) -> str:
    """The side panel: the passages ``turn`` cites, the ``active`` one opened by a marker click."""
    if turn is None:
        return f'<div class="cited-panel-empty">{escape(PANEL_EMPTY)}</div>'
    closest = turn.response is not None and turn.response.outcome == "closest"
    title = f"Closest passages of answer {turn.number}" if closest else f"Passages of answer {turn.number}"
    heading = f'<h3>{title}</h3><div class="cited-asked">{escape(turn.question)}</div>'
    if closest:
        heading += f'<div class="cited-closest-note">{escape(CLOSEST_HEADING)}.</div>'
    if turn.response is None:
        return f"{heading}<p>No passages: this question could not be answered.</p>"
    if not turn.response.citations:
        return f"{heading}<p>No passages: the documents do not answer this question.</p>"
    cards = "".join(passage_html(turn.number, c, c.id == active) for c in turn.response.citations)
    return f'<section class="cited-passages">{heading}{cards}</section>'


def document_choices(documents: Sequence[DocumentInfo]) -> list[tuple[str, str]]:
    """(label, document id) for the document filter; titles can repeat, so the path is shown too."""
    return [(f"{d.title} ({d.source})", d.document_id) for d in documents]


def error_html(message: str, heading: str = "Could not answer.") -> str:
    return f'<div class="cited-error" role="alert"><strong>{escape(heading)}</strong> {escape(message)}</div>'


def notice_html(message: str) -> str:
    return f'<div class="cited-notice" role="status">{escape(message)}</div>'


CSS = """
#cited-chat .cited-answer, #cited-chat .cited-writing { line-height: 1.6; }
.cited-marker { text-decoration: none; font-weight: 600; cursor: pointer; }
.cited-marker-pending { font-weight: 600; color: #666; }
.cited-mode { margin-top: .4rem; font-size: .85rem; color: #555; }
.cited-notfound, .cited-error, .cited-notice, .cited-busy { padding: .6rem .9rem; border-radius: .5rem; }
.cited-notfound { background: #fff7e0; border: 1px solid #e8c468; color: #5c4300; }
.cited-closest { padding: .6rem .9rem; border-radius: .5rem; background: #f3f6fb; border: 1px solid #b8c7e0; }
.cited-closest-note { display: block; font-size: .85rem; color: #444; margin: .2rem 0 .4rem 0; }
.cited-closest-card { border: 1px solid #d5deec; background: #fff; border-radius: .4rem; padding: .4rem .6rem;
  margin: .4rem 0; }
.cited-closest-card .cited-text { white-space: normal; }
.cited-searched-as { margin-top: .4rem; font-size: .85rem; color: #555; font-style: italic; }
.cited-error { background: #fdecec; border: 1px solid #e0a0a0; color: #6b1111; }
.cited-notice { background: #eaf6ec; border: 1px solid #9ccaa5; color: #173d1f; }
.cited-busy { color: #444; display: flex; align-items: center; gap: .5rem; }
.cited-spinner { width: 1rem; height: 1rem; border: 2px solid #c7d2fe; border-top-color: #4f46e5;
  border-radius: 50%; animation: cited-spin .8s linear infinite; display: inline-block; }
@keyframes cited-spin { to { transform: rotate(360deg); } }
.cited-searched-only { margin-top: .4rem; font-size: .85rem; color: #555; }
#cited-panel { max-height: 560px; overflow-y: auto !important; }  /* Gradio sets overflow: visible */
#cited-panel h3 { margin: 0 0 .2rem 0; }
.cited-asked { color: #555; font-style: italic; margin-bottom: .5rem; }
.cited-panel-empty { color: #666; }
.cited-passage { border: 1px solid #ddd; border-radius: .5rem; padding: .6rem .9rem; margin: .5rem 0; }
.cited-passage.cited-active { border-color: #3b82f6; box-shadow: 0 0 0 2px #bfdbfe; }
.cited-where { color: #666; font-size: .85rem; }
.cited-text { white-space: pre-wrap; margin-top: .4rem; font-size: .92rem; }
.cited-text mark { background: #fde68a; color: inherit; }
#cited-open-ref, #cited-open { display: none !important; }
"""
