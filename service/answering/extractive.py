"""Extractive answering: the sentences an answer quotes, and the first way Cited chose them.

``Candidate`` and ``Selection`` are what every answer step hands to the citations. The learned step
(``service/answering/learned_selection.py``) is the default; ``FormulaSelector`` here is the scorer
Cited shipped before it (``CITED_ANSWER_STEP=formula``), kept so ``cited bench answers`` can compare
the two in one run. A sentence's score blends meaning and wording:

    score = 0.7 * cosine(question, sentence) + 0.3 * coverage(question, sentence)

``coverage`` is the share of the question's content words (stemmed, stop words removed, number
words as digits) found in the sentence or in its document's title. Cosine alone misses rare names
and numbers; word overlap alone misses paraphrase. The same score decides abstention: below the
threshold, nothing in the documents answers. Measured on the calibration questions
(``cited calibrate``), ROC AUC for telling answerable from unanswerable questions apart:
cosine alone 0.92, the blend 0.96 (see reports/abstention-calibration.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cited.chunks import ScoredChunk
from cited.sentences import BULLETS, SentenceSpan, split_sentences
from cited.text_features import content_terms

DENSE_WEIGHT = 0.7
LEXICAL_WEIGHT = 1 - DENSE_WEIGHT
MIN_WORDS = 4  # shorter "sentences" are headings or list labels, not answers
_RELATIVE_MARGIN = 0.12  # a further sentence must score within this of the best one
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


def coverage(question_terms: set[str], sentence: str, context_terms: set[str] = frozenset()) -> float:
    """Share of the question's terms found in the sentence or in its document's title."""
    if not question_terms:
        return 0.0
    return len(question_terms & (content_terms(sentence) | context_terms)) / len(question_terms)


class FormulaSelector:
    def __init__(
        self,
        embed_sentences: Callable[[Sequence[str]], np.ndarray],
        max_sentences: int,
        threshold: float,
    ) -> None:
        self._embed = embed_sentences  # texts -> unit vectors, one row each
        self.max_sentences = max_sentences
        self.threshold = threshold

    def candidates(
        self, question: str, query_vector: np.ndarray, passages: list[ScoredChunk]
    ) -> list[Candidate]:
        spans: list[tuple[ScoredChunk, SentenceSpan]] = []
        seen: set[tuple[str, int]] = set()
        for passage in passages:  # best passage first, so an overlap keeps its better-ranked copy
            for sentence in split_sentences(passage.chunk.text):
                key = (passage.chunk.document_id, passage.chunk.start + sentence.start)
                if len(sentence.text.split()) < MIN_WORDS or key in seen:
                    continue
                seen.add(key)
                spans.append((passage, sentence))
        if not spans:
            return []
        vectors = self._embed([s.text for _, s in spans])
        dense = vectors @ query_vector
        terms = content_terms(question)
        # A sentence is read in its document: "The company..." in a document titled "Alibaba..."
        titles = {p.chunk.title: content_terms(p.chunk.title) for p in passages}
        return [
            Candidate(
                p,
                s,
                DENSE_WEIGHT * float(d) + LEXICAL_WEIGHT * coverage(terms, s.text, titles[p.chunk.title]),
                v,
            )
            for (p, s), d, v in zip(spans, dense, vectors, strict=True)
        ]

    def select(self, question: str, query_vector: np.ndarray, passages: list[ScoredChunk]) -> Selection:
        ranked = sorted(self.candidates(question, query_vector, passages), key=lambda c: -c.score)
        if not ranked:
            return Selection([], -1.0, False)
        best = ranked[0].score
        chosen: list[Candidate] = []
        for candidate in ranked:
            if len(chosen) == self.max_sentences or candidate.score < best - _RELATIVE_MARGIN:
                break
            if any(float(candidate.vector @ c.vector) >= DUPLICATE_COSINE for c in chosen):
                continue  # the same sentence again (a repeated caption, a copied paragraph)
            chosen.append(candidate)
        return Selection(chosen, best, best >= self.threshold)


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
