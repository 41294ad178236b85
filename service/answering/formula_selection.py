"""The first way Cited chose the sentences an answer quotes: a fixed formula.

The learned step
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

from collections.abc import Callable, Sequence

import numpy as np

from cited.store.chunks import ScoredChunk
from cited.text.features import content_terms
from cited.text.sentences import SentenceSpan, split_sentences
from service.answering.selection import DUPLICATE_COSINE, MIN_WORDS, Candidate, Selection

DENSE_WEIGHT = 0.7
LEXICAL_WEIGHT = 1 - DENSE_WEIGHT
_RELATIVE_MARGIN = 0.12  # a further sentence must score within this of the best one


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
        # The formula step has no relevance model: an abstention shows the best sentence of each of
        # the closest passages.
        closest: dict[str, Candidate] = {}
        for candidate in ranked:
            closest.setdefault(candidate.passage.chunk.id, candidate)
        return Selection(chosen, best, best >= self.threshold, list(closest.values())[:3])
