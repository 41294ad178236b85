"""Finding the passages for a question.

``hybrid`` (the default) fuses BM25 with MiniLM vectors, and with multilingual-e5 vectors when
multilingual retrieval is on (see ``service/hybrid.py``); ``dense`` and ``bm25`` use one retriever
alone, for comparison. Measured on SciFact with ``cited bench retrieval``.

Every method takes the caller's ``groups`` (None when auth is off: everything is readable). They go
into the Chroma query and the BM25 mask, so a passage outside them is never scored, fetched or
returned.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from cited.embedding import Embedder, MultilingualEmbedder
from cited.lexical import LexicalIndex
from cited.settings import Settings
from cited.store import ChunkStore, ScoredChunk, document_of
from service.hybrid import fuse


@dataclass(frozen=True)
class Retrieval:
    passages: list[ScoredChunk]  # best first
    query_vector: np.ndarray | None  # the question's MiniLM vector, when this retrieval made one
    timings_ms: dict[str, float] = field(default_factory=dict)


class Retriever:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: ChunkStore,
        lexical: LexicalIndex,
        multilingual: MultilingualEmbedder | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.lexical = lexical
        self.multilingual = multilingual
        # e5 embeds the question on its own thread while MiniLM and BM25 work on this one. Both
        # engines release the GIL, so they overlap where there are spare cores; on 2 cores, where
        # each wants both, they mostly do not (measured: e5 adds about 20 ms per query).
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="e5") if multilingual else None

    @property
    def uses_multilingual(self) -> bool:
        return self.multilingual is not None and self.settings.fusion_multilingual > 0

    def retrieve(self, question: str, k: int, groups: frozenset[str] | None = None) -> Retrieval:
        """The ``k`` best passages; several may come from one document."""
        started = time.perf_counter()
        vector, ranked = self._ranked(question, k, groups)
        return Retrieval(self._passages(ranked[:k]), vector, _since(started, "retrieve"))

    def retrieve_documents(
        self, question: str, n: int, chunks_per_document: int = 3, groups: frozenset[str] | None = None
    ) -> Retrieval:
        """The best passage of each of the ``n`` best documents.

        Grouping happens on chunk ids, before any text is read, so only ``n`` chunks are fetched.
        Up to ``n * chunks_per_document`` chunks are ranked to find ``n`` distinct documents.
        """
        started = time.perf_counter()
        vector, ranked = self._ranked(question, n * chunks_per_document, groups)
        best: dict[str, tuple[str, float]] = {}
        for chunk, score in ranked:
            best.setdefault(document_of(chunk), (chunk, score))
            if len(best) == n:
                break
        return Retrieval(self._passages(list(best.values())), vector, _since(started, "retrieve"))

    def _ranked(
        self, question: str, k: int, groups: frozenset[str] | None
    ) -> tuple[np.ndarray | None, list[tuple[str, float]]]:
        """The question's MiniLM vector (when used) and the best ``k`` (chunk id, score) pairs."""
        mode = self.settings.retrieval
        if mode == "bm25":
            return None, [(h.chunk_id, h.score) for h in self.lexical.search(question, k, groups)]
        if mode == "dense":
            vector = self.embedder.embed_query(question)
            return vector, self.store.nearest(vector, k, groups=groups)
        vector, lists = self.candidates(question, max(k, self.settings.candidates), groups)
        return vector, fuse(lists, self.weights, self.settings.fusion_window)[:k]

    @property
    def weights(self) -> dict[str, float]:
        return {
            "bm25": self.settings.fusion_bm25,
            "dense": self.settings.fusion_dense,
            "multilingual": self.settings.fusion_multilingual,
        }

    def candidates(
        self, question: str, depth: int, groups: frozenset[str] | None = None
    ) -> tuple[np.ndarray, dict[str, list[tuple[str, float]]]]:
        """The question's MiniLM vector and each voter's (chunk id, score) list, best first."""
        pending = None
        if self.uses_multilingual and self._pool is not None and self.multilingual is not None:
            pending = self._pool.submit(self.multilingual.embed_query, question)
        vector = self.embedder.embed_query(question)
        lists = {
            "dense": self.store.nearest(vector, depth, groups=groups),
            "bm25": [(h.chunk_id, h.score) for h in self.lexical.search(question, depth, groups)],
        }
        if pending is not None:
            lists["multilingual"] = self.store.nearest(pending.result(), depth, True, groups)
        return vector, lists

    def _passages(self, ranked: list[tuple[str, float]]) -> list[ScoredChunk]:
        chunks = self.store.fetch([chunk_id for chunk_id, _ in ranked])
        # An id the store no longer holds (deleted since the index was read) is skipped.
        return [ScoredChunk(chunks[i], score) for i, score in ranked if i in chunks]


def _since(started: float, name: str) -> dict[str, float]:
    return {name: round((time.perf_counter() - started) * 1000, 2)}
