"""The learned answer step: every span of the retrieved passages that could be quoted is scored by
the fitted model (``span_model.py``) on the features of ``span_features.py``; the best span
answers when its probability clears the model's threshold, and spans nearly as probable join it.

Headings are never quoted on their own: they are the context of the spans under them. The one
exception is a list: "What are the three Cs?" is answered by the document's sibling numbered
headings "1. Communication", "2. Connecting", "3. Commitment", quoted together. A question that
asks for a number ("how many") is never answered by a span without one. Span vectors
come from the store (pooled at ingest, ``cited/models/span_vectors.py``); only spans without one (past
the encoder's window, or from a store written before span vectors) are embedded here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from cited.models import span_vectors
from cited.store.chunks import Chunk, ScoredChunk
from cited.text.features import asked_count, asked_item, expected_answer_type
from cited.text.sentences import SentenceSpan
from cited.text.structure import TaggedSpan, passage_spans
from service.answering.relevance import RelevanceModel, question_row
from service.answering.selection import DUPLICATE_COSINE, MIN_WORDS, Candidate, Selection
from service.answering.span_features import FEATURES, CandidateSpan, feature_rows
from service.answering.span_model import AnswerModel

CLOSEST_PASSAGES = 3
# When the step is unsure, its two most probable passages are shown, and then the most probable
# other one of the first CLOSEST_POOL retrieved: out of fold on the SQuAD articles the three shown
# held the gold answer for 0.9230 of answerable questions, against 0.9192 for the best three of the
# first top_k (5) and 0.9222 for the best three of the first 10 (dev questions: 1.0 for each).
CLOSEST_POOL = 10
KEPT_FROM_ANSWER = 2


class LearnedSelector:
    def __init__(
        self,
        model: Callable[[], AnswerModel],
        embed_sentences: Callable[[Sequence[str]], np.ndarray],
        idf_of: Callable[[Iterable[str]], dict[str, float]],
        corpus_size: Callable[[], int],
        max_sentences: int,
        dimension: int = 384,
        document_chunks: Callable[[str], list[Chunk]] | None = None,
        relevance: Callable[[], RelevanceModel] | None = None,
    ) -> None:
        self._model = model  # loaded on first use: computing features (to fit one) needs none
        self._relevance = relevance  # None: every abstention shows its closest passages
        self._embed = embed_sentences
        self._idf_of = idf_of
        self._corpus_size = corpus_size
        self.max_sentences = max_sentences
        self.dimension = dimension
        self._document_chunks = document_chunks  # a version's chunks: where sibling headings are

    def candidate_spans(self, passages: list[ScoredChunk]) -> list[CandidateSpan]:
        found: list[tuple[ScoredChunk, int, TaggedSpan, np.ndarray]] = []
        missing: list[int] = []
        seen: set[tuple[str, int]] = set()
        for rank, passage in enumerate(passages, 1):  # best first: an overlap keeps the better copy
            chunk = passage.chunk
            spans = passage_spans(chunk)
            stored = span_vectors.decode(chunk.span_vectors, self.dimension) if chunk.span_vectors else None
            if stored is not None and len(stored) != len(spans):
                stored = None  # tagged by other rules than these: embed here
            for i, span in enumerate(spans):
                key = (chunk.document_id, chunk.start + span.start)
                if span.kind == "heading" or len(span.text.split()) < MIN_WORDS or key in seen:
                    continue
                if span.text.strip() == chunk.title.strip():
                    continue  # the document's title line, untagged when it is plain text
                seen.add(key)
                vector = stored[i] if stored is not None else np.full(self.dimension, np.nan)
                if np.isnan(vector).any():
                    missing.append(len(found))
                found.append((passage, rank, span, vector))
        if missing:
            fresh = self._embed([found[i][2].text for i in missing])
            for i, vector in zip(missing, fresh, strict=True):
                found[i] = (found[i][0], found[i][1], found[i][2], vector)
        return [CandidateSpan(p, r, s, v) for p, r, s, v in found]

    def features(
        self, question: str, query_vector: np.ndarray, passages: list[ScoredChunk]
    ) -> tuple[list[CandidateSpan], np.ndarray]:
        candidates = self.candidate_spans(passages)
        n = max(self._corpus_size(), 1)
        rows = feature_rows(
            question,
            expected_answer_type(question),
            query_vector,
            candidates,
            self._idf_of,
            math.log1p((n + 0.5) / 0.5),
        )
        return candidates, rows

    def select(
        self,
        question: str,
        query_vector: np.ndarray,
        passages: list[ScoredChunk],
        wider: list[ScoredChunk] | None = None,
    ) -> Selection:
        """The answer from ``passages``; when unsure, the closest passages of ``wider`` (the same
        retrieval, further down: ``CLOSEST_POOL``), or of ``passages`` when none is given."""
        listed = self.numbered_list(question, passages)
        if listed:
            return Selection(listed, 1.0, True)
        candidates, rows = self.features(question, query_vector, passages)
        model = self._model()
        kind = expected_answer_type(question)
        probabilities = typed(kind, rows, model.probabilities(rows))
        selection = choose(candidates, probabilities, model, self.max_sentences)
        if selection.answered or not candidates:
            return selection
        # Relevance reads the rows the answer was judged on, as it was fitted.
        relevant = self._relevance is None or self._relevance().relevant(question_row(rows, probabilities))
        ranks = np.array([c.rank for c in candidates])
        kept = KEPT_FROM_ANSWER if wider is not None and len(wider) > len(passages) else CLOSEST_PASSAGES
        closest = [
            _candidate(candidates[i], float(probabilities[i]))
            for i in closest_indices(ranks, probabilities, kept)
        ]
        if kept < CLOSEST_PASSAGES:
            assert wider is not None
            wide, wide_rows = self.features(question, query_vector, wider)
            wide_probabilities = typed(kind, wide_rows, model.probabilities(wide_rows))
            shown = {c.passage.chunk.id for c in closest}
            for i in closest_indices(
                np.array([c.rank for c in wide]), wide_probabilities, CLOSEST_PASSAGES + kept
            ):
                if len(closest) == CLOSEST_PASSAGES:
                    break
                if wide[i].passage.chunk.id not in shown:
                    shown.add(wide[i].passage.chunk.id)
                    closest.append(_candidate(wide[i], float(wide_probabilities[i])))
        return Selection(selection.chosen, selection.best_score, False, closest, relevant)

    def numbered_list(self, question: str, passages: list[ScoredChunk]) -> list[Candidate]:
        """For a question that asks for N things: N sibling numbered headings, 1 to N, of the document
        of the best-ranked passage (the one retrieval judged the question is about), each quoted from
        its own passage; for one that asks for the Nth item ("What was the second C?"), heading N of
        such a run. Empty when that document has no such run; the spans are scored as usual then."""
        count, item = asked_count(question), asked_item(question)
        if self._document_chunks is None or not passages:
            return []
        if (count is None or count < 2) and item is None:
            return []
        headings: dict[int, tuple[Chunk, TaggedSpan]] = {}
        for chunk in sorted(self._document_chunks(passages[0].chunk.version), key=lambda c: c.index):
            for span in passage_spans(chunk):
                if span.kind == "heading" and span.number:
                    headings.setdefault(chunk.start + span.start, (chunk, span))
        run = [headings[k] for k in sorted(headings)]
        chosen: list[tuple[Chunk, TaggedSpan]] = []
        for first in range(len(run)):
            numbers = [span.number for _, span in run[first:]]
            length = next((i for i, n in enumerate(numbers) if n != i + 1), len(numbers))  # 1, 2, 3, …
            if count is not None and count >= 2 and length == count:
                chosen = run[first : first + count]
                break
            if item is not None and count is None and length >= max(item, 2):
                chosen = [run[first + item - 1]]
                break
        return [
            Candidate(
                ScoredChunk(chunk, 0.0),
                SentenceSpan(span.start, span.end, span.text),
                1.0,
                np.zeros(self.dimension, dtype=np.float32),
            )
            for chunk, span in chosen
        ]


_TYPE_MATCH = FEATURES.index("type_match")


def typed(kind: str, rows: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """A "how many" or "how much" is never answered by a span that gives no number."""
    if kind != "number" or not len(rows):
        return probabilities
    return np.where(rows[:, _TYPE_MATCH] > 0, probabilities, 0.0)


def quoted(vectors: np.ndarray, probabilities: np.ndarray, ratio: float, max_sentences: int) -> list[int]:
    """Indices of the spans to quote, best first: the most probable one, and those at ``ratio`` of
    its probability or more, up to ``max_sentences``, near-duplicates dropped."""
    if not len(probabilities):
        return []
    order = np.argsort(-probabilities, kind="stable")
    best = float(probabilities[order[0]])
    chosen: list[int] = []
    for i in order:
        if len(chosen) == max_sentences or probabilities[i] < best * ratio:
            break
        if any(float(vectors[i] @ vectors[j]) >= DUPLICATE_COSINE for j in chosen):
            continue  # the same sentence again (a repeated caption, a copied paragraph)
        chosen.append(int(i))
    return chosen


def closest_indices(
    passages: np.ndarray, probabilities: np.ndarray, count: int = CLOSEST_PASSAGES
) -> list[int]:
    """Indices of the best span of each of the ``count`` passages whose best span is most probable,
    best first; ``passages`` names each span's passage."""
    chosen: list[int] = []
    seen: set[int] = set()
    for i in np.argsort(-probabilities, kind="stable"):
        if int(passages[i]) in seen:
            continue
        seen.add(int(passages[i]))
        chosen.append(int(i))
        if len(chosen) == count:
            break
    return chosen


def _candidate(c: CandidateSpan, probability: float) -> Candidate:
    return Candidate(c.passage, SentenceSpan(c.span.start, c.span.end, c.span.text), probability, c.vector)


def choose(
    candidates: Sequence[CandidateSpan], probabilities: np.ndarray, model: AnswerModel, max_sentences: int
) -> Selection:
    """The best span, and the spans nearly as probable, as the answer (or the abstention)."""
    if not len(candidates) or not probabilities.max() > 0:
        return Selection([], -1.0, False)
    vectors = np.asarray([c.vector for c in candidates])
    chosen = [
        _candidate(candidates[i], float(probabilities[i]))
        for i in quoted(vectors, probabilities, model.companion_ratio, max_sentences)
    ]
    best = float(probabilities.max())
    return Selection(chosen, best, best >= model.threshold)
