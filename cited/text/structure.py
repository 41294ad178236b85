"""What each span of a passage is: a heading, a list item or a sentence.

A heading names what the text under it is about; quoted on its own it answers nothing ("3.
Commitment"), so the answer path reads it as context of the spans below it and never quotes it
alone. Sibling numbered headings ("1. Communication", "2. Connecting", "3. Commitment") are what a
"what are the three ..." question asks for, so they stay available as a list.

The rules work on the passage text every format is cleaned to (``ingest/loading.py``): Markdown
headings (parsed with markdown-it-py, so ``#`` and underlined headings both count), and, for plain
text, HTML, PDF and DOCX, where the markup is gone, the layout: a short line with no closing
punctuation followed by a longer paragraph. The same function runs at ingest (to pool a vector
for each span) and at question time, so both see the same spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

from cited.store.chunks import Chunk
from cited.text.sentences import BULLETS, split_sentences

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

SpanKind = Literal["heading", "list_item", "sentence"]

_HEADING_MAX_WORDS = 10
_NUMBERED = re.compile(r"^\s*(?P<number>\d{1,2})[.)]\s+\S")
_BULLETED = re.compile(rf"^\s*(?:[{re.escape(BULLETS)}]|\d{{1,2}}[.)]|[a-z][.)])\s+\S")
_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S")
_BULLET_MARK = re.compile(rf"^[{re.escape(BULLETS)}]\s*")
_CLOSING = tuple('.!?:;,"”»)]')


@dataclass(frozen=True)
class TaggedSpan:
    start: int  # offsets in the passage text: text[start:end] == self.text
    end: int
    text: str
    kind: SpanKind
    heading: str = ""  # the nearest heading above the span in the passage, if any
    number: int | None = None  # a numbered heading's or item's number ("2. Connecting": 2)


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def _markdown_heading_lines(text: str) -> set[int]:
    """Line numbers (from 0) that Markdown reads as headings: ``# Title`` and underlined ones."""
    lines: set[int] = set()
    for token in _markdown().parse(text):
        if token.type == "heading_open" and token.map:
            lines.add(token.map[0])
    return lines


def _looks_like_heading(line: str, following: str | None) -> bool:
    """A short line without closing punctuation, with a longer paragraph after it."""
    words = line.split()
    if not words or len(words) > _HEADING_MAX_WORDS or line.rstrip().endswith(_CLOSING):
        return False
    if following is None:
        return False
    if len(following.split()) <= len(words):
        return False
    numbered = _NUMBERED.match(line) is not None
    capitalised = sum(w[0].isupper() or w[0].isdigit() for w in words) / len(words)
    # "1. Communication", "The 3C strategy benefits": numbered, or short, or mostly capitalised.
    return numbered or len(words) <= 6 or capitalised >= 0.6


def _line_kind(line: str, following: str | None, marked: bool) -> SpanKind:
    if marked:
        return "heading"
    numbered = _NUMBERED.match(line) is not None
    if _BULLETED.match(line) and not numbered:
        return "list_item"
    # A numbered line followed by its sibling is a list item; followed by a paragraph, a heading.
    if numbered and following is not None and _BULLETED.match(following):
        return "list_item"
    if _looks_like_heading(line, following):
        return "heading"
    return "list_item" if numbered else "sentence"


def tag_spans(text: str, markdown: bool = False) -> list[TaggedSpan]:
    """The spans of ``text``, each tagged: a heading or list item is its whole line (bullet and
    ``#`` marks left out), other lines are split into sentences as ``cited/text/sentences.py`` does.

    ``markdown``: the passage is Markdown source, whose headings are headings whatever their length.
    """
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    # Lines with no letter or digit (a Markdown underline or rule, a row of stars) are not text.
    filled = [i for i, line in enumerate(lines) if any(c.isalnum() for c in line)]
    following = dict(zip(filled, (lines[j] for j in filled[1:]), strict=False))
    marked = _markdown_heading_lines(text) if markdown else set()
    spans: list[TaggedSpan] = []
    heading = ""
    for i in filled:
        line = lines[i]
        kind = _line_kind(
            line, following.get(i), i in marked or (markdown and bool(_MARKDOWN_HEADING.match(line)))
        )
        if kind == "sentence":
            spans.extend(
                TaggedSpan(starts[i] + s.start, starts[i] + s.end, s.text, "sentence", heading)
                for s in split_sentences(line)
            )
            continue
        numbered = _NUMBERED.match(line)
        body = line.strip().lstrip("#").strip() if kind == "heading" else line.strip()
        if kind == "list_item" and not numbered:
            body = _BULLET_MARK.sub("", body)
        if not body:
            continue
        start = starts[i] + line.index(body)
        number = int(numbered.group("number")) if numbered else None
        spans.append(
            TaggedSpan(start, start + len(body), body, kind, "" if kind == "heading" else heading, number)
        )
        if kind == "heading":
            heading = body
    return spans


_MARKDOWN_SOURCES = (".md", ".markdown")  # ingest/formats.py's Markdown suffixes


def passage_spans(chunk: Chunk) -> list[TaggedSpan]:
    """The tagged spans of a stored passage (its source's suffix says whether it is Markdown)."""
    return tag_spans(chunk.text, markdown=chunk.source.lower().endswith(_MARKDOWN_SOURCES))
