"""The answer service: question in, extractive answer with citations out.

Both the HTTP router and the Gradio page call :meth:`AnswerService.ask`, so the page shows exactly
what the API returns.
"""

from __future__ import annotations

import time

from cited.embedding import Embedder
from cited.settings import Settings
from cited.store import ChunkStore, open_store
from service.citations import cite
from service.extractive import SentenceSelector
from service.retrieval import DenseRetriever
from service.schemas import AskRequest, AskResponse, Citation, DocumentInfo

NOT_ANSWERED = "The documents do not answer this question."


class EmptyIndexError(Exception):
    """No document is indexed yet."""

    def __init__(self) -> None:
        super().__init__("The index is empty: run `cited ingest` (or `make run`) to index the corpus first.")


class AnswerService:
    def __init__(self, settings: Settings, embedder: Embedder, store: ChunkStore) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.retriever = DenseRetriever(embedder, store)
        self.selector = SentenceSelector(embedder.embed_cached, settings.max_answer_sentences)

    @classmethod
    def from_settings(cls, settings: Settings) -> AnswerService:
        return cls(settings, Embedder(settings.embed_batch_size), open_store(settings))

    def warm_up(self) -> None:
        """Load the model and run it once on a batch, before the first request instead of in it."""
        self.embedder.embed_query("warm up")
        self.embedder.embed(["A first sentence to warm up the model.", "And another, longer one " * 8])

    def documents(self) -> list[DocumentInfo]:
        return [DocumentInfo(**vars(d)) for d in self.store.documents()]

    def ask(self, request: AskRequest) -> AskResponse:
        started = time.perf_counter()
        if self.store.count() == 0:
            raise EmptyIndexError()
        timings: dict[str, float] = {}

        def lap(name: str, since: float) -> float:
            now = time.perf_counter()
            timings[name] = round((now - since) * 1000, 2)
            return now

        query_vector = self.retriever.embed(request.question)
        t = lap("embed", started)
        passages = self.retriever.search(query_vector, request.top_k or self.settings.top_k)
        t = lap("search", t)
        selection = self.selector.select(request.question, query_vector, passages)
        abstained = selection.best_score < self.settings.abstain_threshold
        cited = cite([] if abstained else selection.chosen)
        lap("select", t)
        lap("total", started)
        return AskResponse(
            answer=NOT_ANSWERED if abstained else cited.answer,
            abstained=abstained,
            citations=[
                Citation(
                    id=c.id,
                    document_id=c.passage.chunk.document_id,
                    title=c.passage.chunk.title,
                    source=c.passage.chunk.source,
                    text=c.passage.chunk.text,
                    quote=c.quote,
                    start=c.passage.chunk.start,
                    end=c.passage.chunk.end,
                    page=c.passage.chunk.page,
                    score=round(c.passage.score, 4),
                )
                for c in cited.citations
            ],
            timings_ms=timings,
        )
