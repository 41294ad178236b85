"""HTML for the page. Every piece of document text is escaped here, and only here: Gradio's HTML
component inserts markup as-is, so an unescaped ``<img onerror=...>`` in a document would run."""

from __future__ import annotations

import re
from html import escape

from service.schemas import AskResponse, Citation

_MARKER = re.compile(r" \[(\d+)\](?= |$)")

NOT_FOUND = (
    "Cited answers only from the indexed documents, and none of them answers this question. "
    "Try other words, or ask about something the documents cover."
)


def answer_html(response: AskResponse) -> str:
    if response.abstained:
        return (
            '<div class="cited-notfound" role="status"><strong>Not found in the documents.</strong> '
            f"{escape(NOT_FOUND)}</div>"
        )
    ids = {c.id for c in response.citations}

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in ids:
            return match.group(0)
        return f' <a class="cited-marker" href="#cited-passage-{n}" title="Show passage {n}">[{n}]</a>'

    return f'<div class="cited-answer">{_MARKER.sub(link, escape(response.answer, quote=False))}</div>'


def passage_html(citation: Citation) -> str:
    text = citation.text
    at = text.find(citation.quote) if citation.quote else -1
    if at >= 0:
        end = at + len(citation.quote)
        body = f"{escape(text[:at])}<mark>{escape(citation.quote)}</mark>{escape(text[end:])}"
    else:
        body = escape(text)
    where = escape(citation.source) + (f", page {citation.page}" if citation.page else "")
    return (
        f'<article class="cited-passage" id="cited-passage-{citation.id}">'
        f'<header><span class="cited-n">[{citation.id}]</span> <strong>{escape(citation.title)}</strong>'
        f'<div class="cited-where">{where} · characters {citation.start}–{citation.end}'
        f" · relevance {citation.score:.2f}</div></header>"
        f'<div class="cited-text">{body}</div></article>'
    )


def passages_html(response: AskResponse) -> str:
    if not response.citations:
        return ""
    cards = "".join(passage_html(c) for c in response.citations)
    return f'<section class="cited-passages"><h3>Cited passages</h3>{cards}</section>'


def error_html(message: str, heading: str = "Could not answer.") -> str:
    return f'<div class="cited-error" role="alert"><strong>{escape(heading)}</strong> {escape(message)}</div>'


def notice_html(message: str) -> str:
    return f'<div class="cited-notice" role="status">{escape(message)}</div>'


CSS = """
.cited-answer { font-size: 1.05rem; line-height: 1.6; }
.cited-marker { text-decoration: none; font-weight: 600; }
.cited-notfound, .cited-error, .cited-notice { padding: .75rem 1rem; border-radius: .5rem; }
.cited-notfound { background: #fff7e0; border: 1px solid #e8c468; color: #5c4300; }
.cited-error { background: #fdecec; border: 1px solid #e0a0a0; color: #6b1111; }
.cited-notice { background: #eaf6ec; border: 1px solid #9ccaa5; color: #173d1f; }
.cited-passage { border: 1px solid #ddd; border-radius: .5rem; padding: .75rem 1rem; margin: .5rem 0; }
.cited-passage:target { border-color: #3b82f6; box-shadow: 0 0 0 2px #bfdbfe; }
.cited-where { color: #666; font-size: .85rem; }
.cited-text { white-space: pre-wrap; margin-top: .5rem; }
.cited-text mark { background: #fde68a; color: inherit; }
"""
