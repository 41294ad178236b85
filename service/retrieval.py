"""Passage retrieval: the question's MiniLM vector against the chunks in Chroma."""

from __future__ import annotations

import numpy as np

from cited.embedding import Embedder
from cited.store import ChunkStore, ScoredChunk


class DenseRetriever:
    def __init__(self, embedder: Embedder, store: ChunkStore) -> None:
        self.embedder = embedder
        self.store = store

    def embed(self, question: str) -> np.ndarray:
        return self.embedder.embed_query(question)

    def search(self, query_vector: np.ndarray, k: int) -> list[ScoredChunk]:
        return self.store.search(query_vector, k)
