"""Ranking whole documents, as BEIR scores retrieval: the best passage of each of the best documents."""

from __future__ import annotations

from cited.store.chunks import document_of
from cited.store.search_filter import EVERYTHING
from cited.store.state import StoreState
from service.answering.retrieval import Retrieval, Retriever


def best_documents(retriever: Retriever, question: str, n: int, chunks_per_document: int = 3) -> Retrieval:
    """The best passage of each of the ``n`` best documents.

    Grouping happens on chunk ids, before any text is read, so only ``n`` chunks are fetched. Up to
    ``n * chunks_per_document`` chunks are ranked to find ``n`` distinct documents.
    """

    def search(state: StoreState) -> Retrieval:
        vector, ranked = retriever.ranked(question, n * chunks_per_document, EVERYTHING, state)
        best: dict[str, tuple[str, float]] = {}
        for chunk, score in ranked:
            best.setdefault(document_of(chunk), (chunk, score))
            if len(best) == n:
                break
        return Retrieval(retriever.passages(list(best.values()), state), vector)

    return retriever.consistent(search)
