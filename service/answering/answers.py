"""The answer service: question in, extractive answer with citations out.

Both the HTTP router and the Gradio page reach :meth:`AnswerService.ask` through
``service/asking.py``, so the page shows exactly what the API returns, under the same limits.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from cited.chunks import Chunk
from cited.embedding import Embedder, MultilingualEmbedder, make_embedder
from cited.lexical_freshness import LexicalFreshness
from cited.refusals import RefusalError
from cited.settings import Settings
from cited.store import ChunkStore, open_store
from service.answering.answer_model import shipped_model
from service.answering.answer_types import (
    AskRequest,
    AskResponse,
    Citation,
    DocumentInfo,
    Passage,
    RetrievedPassage,
)
from service.answering.citations import cite
from service.answering.extractive import FormulaSelector, Selection
from service.answering.learned_selection import LearnedSelector
from service.answering.retrieval import Retrieval, Retriever

log = logging.getLogger("cited")

NOT_ANSWERED = "The documents do not answer this question."


class UnknownDocumentsError(RefusalError):
    """The reader asked to search documents that are not indexed, or not theirs to read."""

    def __init__(self, unknown: list[str]) -> None:
        problem = (
            f"unknown document id{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}: use ids that "
            "GET /documents lists (a document deleted or replaced since has a new id, or none)"
        )
        super().__init__(
            422,
            "unknown_documents",
            f"documents: {problem}",
            fields=[{"field": "documents", "problem": problem}],
        )
        self.unknown = unknown


class EmptyIndexError(Exception):
    """No document is indexed yet."""

    def __init__(self) -> None:
        super().__init__("The index is empty: run `cited ingest` (or `make run`) to index the corpus first.")


class AnswerService:
    def __init__(
        self, settings: Settings, embedder: Embedder, store: ChunkStore, retriever: Retriever
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.retriever = retriever
        self.formula = FormulaSelector(
            embedder.embed_cached, settings.max_answer_sentences, settings.abstain_threshold
        )
        self._learned: LearnedSelector | None = None
        if settings.answer_step == "learned":
            shipped_model()  # a missing or stale model file stops the start, not a question

    @property
    def learned(self) -> LearnedSelector:
        if self._learned is None:
            lexical = self.retriever.lexical
            self._learned = LearnedSelector(
                shipped_model,
                self.embedder.embed_cached,
                lambda terms: lexical.index.idf(terms),
                lambda: len(lexical.index),
                self.settings.max_answer_sentences,
                self.embedder.dimension,
                self.version_chunks,
            )
        return self._learned

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None) -> AnswerService:
        """The service over the store the settings name; ``embedder`` may be one already loaded
        (it must be the build ``settings.embedder`` names)."""
        embedder = embedder or make_embedder(settings.embedder, settings.embed_batch_size)
        store = open_store(settings)
        lexical = LexicalFreshness(settings, store)
        if lexical.catch_up():
            log.info("rebuilt the BM25 index from the store (%d chunks)", len(lexical.index))
        multilingual = None
        if settings.multilingual:
            if store.multilingual_count() >= store.count():
                multilingual = MultilingualEmbedder()
            else:
                log.warning(
                    "multilingual retrieval is on but %d of %d chunks have no e5 vector: run "
                    "`cited ingest` to add them; searching without e5 until then",
                    store.count() - store.multilingual_count(),
                    store.count(),
                )
        return cls(settings, embedder, store, Retriever(settings, embedder, store, lexical, multilingual))

    def warm_up(self) -> None:
        """Load the models and run them once, before the first request instead of in it."""
        self.embedder.embed_query("warm up")
        self.embedder.warm_up()
        if self.retriever.multilingual is not None:
            self.retriever.multilingual.embed_query("warm up")

    def version_chunks(self, version: str) -> list[Chunk]:
        """Every chunk of one document version (the reader could already read one of them)."""
        return list(self.store.fetch(self.store.version_chunks([version])).values())

    def documents(self, groups: frozenset[str] | None = None) -> list[DocumentInfo]:
        """The documents readable by ``groups`` (every one when None: auth off)."""
        return [DocumentInfo(**vars(d)) for d in self.store.documents(groups)]

    def query_vector(self, question: str, retrieval: Retrieval) -> np.ndarray:
        if retrieval.query_vector is not None:
            return retrieval.query_vector
        return self.embedder.embed_query(question)  # BM25 alone made no question vector

    def select(self, question: str, retrieval: Retrieval, step: str | None = None) -> Selection:
        """The spans of the retrieved passages that best answer ``question``, and whether they do,
        by ``step`` (the settings' answer step when None)."""
        vector = self.query_vector(question, retrieval)
        if (step or self.settings.answer_step) == "formula":
            return self.formula.select(question, vector, retrieval.passages)
        return self.learned.select(question, vector, retrieval.passages)

    def ask(self, request: AskRequest, groups: frozenset[str] | None = None) -> AskResponse:
        """Answer from the documents readable by ``groups`` (every one when None: auth off)."""
        started = time.perf_counter()
        if self.store.count() == 0:
            raise EmptyIndexError()
        timings: dict[str, float] = {}
        documents = None
        if request.documents is not None:
            documents = frozenset(request.documents)
            readable = self.store.readable_documents(documents, groups)
            if unknown := sorted(documents - readable):
                raise UnknownDocumentsError(unknown)

        def lap(name: str, since: float) -> float:
            now = time.perf_counter()
            timings[name] = round((now - since) * 1000, 2)
            return now

        retrieval = self.retriever.retrieve(
            request.question, request.top_k or self.settings.top_k, groups, documents
        )
        timings.update(retrieval.timings_ms)
        t = time.perf_counter()
        selection = self.select(request.question, retrieval)
        abstained = not selection.answered
        cited = cite([] if abstained else selection.chosen)
        lap("select", t)
        lap("total", started)
        return AskResponse(
            answer=NOT_ANSWERED if abstained else cited.answer,
            abstained=abstained,
            citations=[
                Citation(id=c.id, quote=c.quote, **Passage.fields_of(c.passage)) for c in cited.citations
            ],
            timings_ms=timings,
            retrieved=[
                RetrievedPassage(rank=rank, **Passage.fields_of(p))
                for rank, p in enumerate(retrieval.passages, 1)
            ]
            if request.include_retrieved
            else None,
        )
