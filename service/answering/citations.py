"""Turning chosen sentences into an answer with ``[n]`` markers and the citations they refer to.

Citations are numbered in the order the answer first uses them. A citation's ``quote`` is the part
of its passage the answer used: from the first used sentence to the last, so it is always a
substring of ``text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cited.store.chunks import ScoredChunk
from cited.text.sentences import BULLETS, SentenceSpan
from service.answering.selection import Candidate, extend_list

_LIST_INTRO = re.compile(rf":\s*\n[\s{re.escape(BULLETS)}]*")
_LIST_BREAK = re.compile(rf"\s*\n[\s{re.escape(BULLETS)}]*")


@dataclass(frozen=True)
class CitedPassage:
    id: int
    passage: ScoredChunk
    quote: str


@dataclass(frozen=True)
class CitedAnswer:
    answer: str
    citations: list[CitedPassage]


def as_running_text(text: str) -> str:
    """List items are separate lines in a passage; in an answer they read as a series."""
    return _LIST_BREAK.sub("; ", _LIST_INTRO.sub(": ", text.strip()))


def reading_order(chosen: list[Candidate]) -> list[Candidate]:
    """Group sentences by document (best-scoring document first), then in document order."""
    rank: dict[str, int] = {}
    for candidate in chosen:  # chosen is best-first
        rank.setdefault(candidate.passage.chunk.document_id, len(rank))
    return sorted(
        chosen,
        key=lambda c: (
            rank[c.passage.chunk.document_id],
            c.passage.chunk.start + c.sentence.start,
        ),
    )


def cite(chosen: list[Candidate]) -> CitedAnswer:
    ids: dict[str, int] = {}
    spans: dict[str, list[SentenceSpan]] = {}
    passages: dict[str, ScoredChunk] = {}
    parts: list[str] = []
    for candidate in reading_order(chosen):
        chunk = candidate.passage.chunk
        sentence = extend_list(chunk.text, candidate.sentence)
        n = ids.setdefault(chunk.id, len(ids) + 1)
        spans.setdefault(chunk.id, []).append(sentence)
        passages[chunk.id] = candidate.passage
        # List items are separate lines in the passage; in running text they read as a series.
        parts.append(f"{as_running_text(sentence.text)} [{n}]")
    citations = []
    for chunk_id, n in ids.items():
        text = passages[chunk_id].chunk.text
        start = min(s.start for s in spans[chunk_id])
        end = max(s.end for s in spans[chunk_id])
        citations.append(CitedPassage(n, passages[chunk_id], text[start:end]))
    return CitedAnswer(" ".join(parts), citations)
