"""What the learned answer step reads about each candidate span: how close it is to the question in
meaning and in rare words, what kind of answer it holds, and how sure retrieval was of its passage.

One row per candidate, columns named by ``FEATURES``. The rows of one question also carry its
question-level facts (retrieval's best score, the best coverage any candidate reaches), so the
same model both ranks the spans and says whether the best one answers at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from cited.store.chunks import ScoredChunk
from cited.text.features import (
    ANSWER_TYPES,
    content_terms,
    dates,
    defines,
    gives_reason,
    names,
    numbers,
    words_for_names,
)
from cited.text.structure import TaggedSpan

_RARE_TITLE_IDF = 2.0  # a title word this rare (in under ~1 chunk in 7) is credited to its spans


@dataclass(frozen=True)
class CandidateSpan:
    """A span that could be quoted, with the passage it is in and that passage's rank (from 1)."""

    passage: ScoredChunk
    rank: int
    span: TaggedSpan
    vector: np.ndarray  # unit length


BASE_FEATURES = (
    "dense",
    "dense_gap",
    "dense_rank_inverse",
    "passage_score",
    "passage_rank_inverse",
    "top_passage_score",
    "coverage",
    "coverage_idf",
    "coverage_idf_context",
    "coverage_gap",
    "missing_idf_max",
    "missing_terms",
    "names_covered",
    "question_has_names",
    "numbers_covered",
    "new_terms",
    "words",
    "list_item",
    "heading_coverage",
    "question_terms",
    "type_match",
)
FEATURES = (
    *BASE_FEATURES,
    *(f"asks_{kind}" for kind in ANSWER_TYPES),
    *(f"match_{kind}" for kind in ANSWER_TYPES),
)


def type_match(kind: str, span: TaggedSpan, question: str) -> bool:
    """Whether the span holds something of the kind the question asks for, beyond the question's
    own words (a date the question already names does not answer "when")."""
    text = span.text
    if kind == "number":
        return bool(numbers(text) - numbers(question))
    if kind == "date":
        return bool(dates(text) - dates(question))
    if kind in ("person", "place"):
        return bool(names(text) - names(question) - {w.title() for w in words_for_names(question)})
    if kind == "list":
        return span.kind == "list_item" or text.rstrip().endswith(":") or text.count(",") >= 2
    if kind == "reason":
        return gives_reason(text)
    if kind == "definition":
        return defines(text)
    return True


def _weighted(terms: Iterable[str], idf: dict[str, float]) -> float:
    return sum(idf.get(t, 0.0) for t in terms)


def feature_rows(
    question: str,
    kind: str,
    query_vector: np.ndarray,
    candidates: Sequence[CandidateSpan],
    idf_of: Callable[[Iterable[str]], dict[str, float]],
    max_idf: float,
) -> np.ndarray:
    """One row of ``FEATURES`` per candidate."""
    if not candidates:
        return np.zeros((0, len(FEATURES)), dtype=np.float32)
    question_terms = content_terms(question)
    span_terms = [content_terms(c.span.text) for c in candidates]
    heading_terms = [content_terms(c.span.heading) for c in candidates]
    title_terms = {c.passage.chunk.title: content_terms(c.passage.chunk.title) for c in candidates}
    every_term = question_terms.union(*title_terms.values())
    idf = idf_of(every_term)
    rare_title = {
        title: {t for t in terms if idf.get(t, 0.0) >= _RARE_TITLE_IDF}
        for title, terms in title_terms.items()
    }
    question_weight = _weighted(question_terms, idf) or 1.0
    question_names = names(question)
    question_numbers = numbers(question)
    dense = np.array([float(c.vector @ query_vector) for c in candidates])
    dense_rank = np.empty(len(dense))
    dense_rank[np.argsort(-dense)] = np.arange(1, len(dense) + 1)
    top_passage = max(c.passage.score for c in candidates)
    asks = [float(kind == k) for k in ANSWER_TYPES]
    rows = []
    context_coverages = []
    for c, terms, heading in zip(candidates, span_terms, heading_terms, strict=True):
        context = terms | heading | rare_title[c.passage.chunk.title]
        covered = question_terms & terms
        missing = question_terms - context
        in_context = words_for_names(f"{c.span.text} {c.span.heading} {c.passage.chunk.title}")
        match = type_match(kind, c.span, question)
        coverage_context = _weighted(question_terms & context, idf) / question_weight
        context_coverages.append(coverage_context)
        rows.append(
            [
                float(dense[len(rows)]),
                0.0,  # dense_gap, filled below
                1.0 / dense_rank[len(rows)],
                c.passage.score,
                1.0 / c.rank,
                top_passage,
                len(covered) / len(question_terms) if question_terms else 0.0,
                _weighted(covered, idf) / question_weight,
                coverage_context,
                0.0,  # coverage_gap, filled below
                max((idf.get(t, 0.0) for t in missing), default=0.0) / max_idf,
                min(len(missing), 5) / 5,
                (sum(n.lower() in in_context for n in question_names) / len(question_names))
                if question_names
                else 1.0,
                float(bool(question_names)),
                len(question_numbers & numbers(c.span.text)) / len(question_numbers)
                if question_numbers
                else 1.0,
                len(terms - question_terms) / len(terms) if terms else 0.0,
                math.log1p(len(c.span.text.split())) / math.log(50),
                float(c.span.kind == "list_item"),
                _weighted(question_terms & heading, idf) / question_weight,
                math.log1p(len(question_terms)) / math.log(20),
                float(match),
                *asks,
                *(a * float(match) for a in asks),
            ]
        )
    matrix = np.asarray(rows, dtype=np.float32)
    matrix[:, 1] = dense - dense.max()
    matrix[:, 9] = np.asarray(context_coverages) - max(context_coverages)
    return matrix
