"""What every answer step hands to the citations: the candidate sentences, the selection made of
them, and a sentence that introduces a list read together with its items."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from cited.store.chunks import ScoredChunk
from cited.text.sentences import BULLETS, SentenceSpan

MIN_WORDS = 4  # shorter "sentences" are headings or list labels, not answers
DUPLICATE_COSINE = 0.95
_LIST_ITEM_MAX_WORDS = 20
_LIST_MAX_ITEMS = 8
# A list item: blank lines, then a line that starts with a bullet or a number ("– ", "2. ", "b) ").
_LIST_ITEM = re.compile(
    rf"\s*\n[ \t]*(?:[{re.escape(BULLETS)}]|\d{{1,2}}[.)]|[a-z][.)])[ \t]+(?P<item>[^\n]+)"
)


@dataclass(frozen=True)
class Candidate:
    passage: ScoredChunk
    sentence: SentenceSpan  # offsets relative to the passage text
    score: float
    vector: np.ndarray


@dataclass(frozen=True)
class Selection:
    """Sentences chosen for the answer, each with the passage it is quoted from."""

    chosen: list[Candidate]
    best_score: float  # of every candidate, chosen or not; -1.0 when there was none
    answered: bool  # False: the step abstains (``chosen`` is still what it would have quoted)
    # When it abstains: the best span of each of the closest passages, best first, and whether they
    # look relevant at all (``service/answering/relevance.py``); not relevant is ``not_found``.
    closest: list[Candidate] = field(default_factory=list)
    relevant: bool = True


def extend_list(passage_text: str, sentence: SentenceSpan) -> SentenceSpan:
    """A sentence that introduces a list ("...within 4 focus areas:") with the items after it.

    Items are the following lines that start with a bullet or a number, as long as they are short.
    """
    if not sentence.text.rstrip().endswith(":"):
        return sentence
    end = sentence.end
    for items, line in enumerate(_LIST_ITEM.finditer(passage_text, sentence.end)):
        if line.start() != end or items == _LIST_MAX_ITEMS:
            break
        if len(line.group("item").split()) > _LIST_ITEM_MAX_WORDS:
            break
        end = line.end()
    return SentenceSpan(sentence.start, end, passage_text[sentence.start : end])
