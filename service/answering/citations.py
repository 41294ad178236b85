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
from service.answering.selection import Candidate, Selection, extend_list

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


class _Numbering:
    """Citations numbered in the order an answer first uses their passages; each one's quote runs
    from the first sentence used to the last."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.spans: dict[str, list[SentenceSpan]] = {}
        self.passages: dict[str, ScoredChunk] = {}

    def use(self, passage: ScoredChunk, sentence: SentenceSpan) -> int:
        chunk_id = passage.chunk.id
        self.spans.setdefault(chunk_id, []).append(sentence)
        self.passages[chunk_id] = passage
        return self.ids.setdefault(chunk_id, len(self.ids) + 1)

    def quoted(self, chosen: list[Candidate], dated: bool = False) -> str:
        """``chosen`` as running text with its markers; ``dated``: each sentence says its
        document's date."""
        parts = []
        for candidate in reading_order(chosen):
            sentence = extend_list(candidate.passage.chunk.text, candidate.sentence)
            n = self.use(candidate.passage, sentence)
            # List items are separate lines in the passage; in running text they read as a series.
            date = f" ({DATED.format(date=candidate.passage.chunk.document_date)})" if dated else ""
            parts.append(f"{as_running_text(sentence.text)}{date} [{n}]")
        return " ".join(parts)

    def citations(self) -> list[CitedPassage]:
        cited = []
        for chunk_id, n in self.ids.items():
            text = self.passages[chunk_id].chunk.text
            start = min(s.start for s in self.spans[chunk_id])
            end = max(s.end for s in self.spans[chunk_id])
            cited.append(CitedPassage(n, self.passages[chunk_id], text[start:end]))
        return cited


DATED = "dated {date}"


def across_time(chosen: list[Candidate]) -> bool:
    """Whether an answer quotes documents of different dates: each sentence then says its own, so a
    reader sees which is the later ("led during the crisis" against "since 2023"). Only dates the
    documents themselves give count: a file's own date says when it was copied, not written."""
    chunks = [c.passage.chunk for c in chosen]
    dates = {c.document_date for c in chunks}
    return len(dates) > 1 and all(c.document_date and c.date_source != "file" for c in chunks)


def cite(chosen: list[Candidate]) -> CitedAnswer:
    numbering = _Numbering()
    answer = numbering.quoted(chosen, across_time(chosen))
    return CitedAnswer(answer, numbering.citations())


def cite_parts(parts: list[tuple[str, Selection]]) -> CitedAnswer:
    """A question of several parts answered part by part, in one answer: each answered part quoted
    with its markers, each other part said to be unanswered, with its closest passage when one
    looks relevant."""
    numbering = _Numbering()
    said = []
    quoted: set[tuple[str, int]] = set()
    dated = across_time([c for _, s in parts for c in (s.chosen if s.answered else s.closest[:1])])
    for question, selection in parts:
        if selection.answered:
            # A sentence that answers two parts is quoted once.
            fresh = [c for c in selection.chosen if (c.passage.chunk.id, c.sentence.start) not in quoted]
            quoted |= {(c.passage.chunk.id, c.sentence.start) for c in selection.chosen}
            if fresh:
                said.append(numbering.quoted(fresh, dated))
        elif selection.closest and selection.relevant:
            best = selection.closest[0]
            n = numbering.use(best.passage, best.sentence)
            date = f" ({DATED.format(date=best.passage.chunk.document_date)})" if dated else ""
            said.append(
                f"{UNSURE_PART.format(question=question)} {as_running_text(best.sentence.text)}{date} [{n}]"
            )
        else:
            said.append(NOT_FOUND_PART.format(question=question))
    return CitedAnswer(" ".join(said), numbering.citations())


# What Cited says of a part it could not answer for sure: its own words, not the documents', so
# the grounding eval (``evals/grounding.py``) leaves them out of the statements it judges.
UNSURE_PART = "Not sure the documents answer “{question}”; the closest passage says:"
NOT_FOUND_PART = "The documents do not answer “{question}”."
_OWN_WORDS = re.compile(
    "|".join(
        re.escape(p).replace(re.escape("{question}"), "[^”]*").replace(re.escape("{date}"), r"[\d-]+")
        for p in (UNSURE_PART, NOT_FOUND_PART, f"({DATED})")
    )
)


def without_own_words(statement: str) -> str:
    """A statement of an answer without what Cited says of a part it could not answer."""
    return _OWN_WORDS.sub("", statement).strip()
