"""Finding the passages for a question.

``hybrid`` (the default) fuses BM25 with MiniLM vectors, and with multilingual-e5 vectors when
multilingual retrieval is on (see ``service/answering/fusion.py``); ``dense`` and ``bm25`` use one retriever
alone, for comparison. Measured on SciFact with ``cited bench retrieval``.

Every search has a filter (``cited/store/search_filter.py``): the caller's ``groups`` (None when auth is off:
everything is readable) and, optionally, the ``documents`` the reader chose (None: all they may
read). It goes into the Chroma query and the BM25 mask, so a passage outside it is never scored,
fetched or returned.

Every search is a consistent read of the store (``cited/store/chunk_store.py``): versions the state record
hides are dropped, and a search that overlapped a write of that record is done again, so a
document is seen in its old or its new version, never half of one or both. When the store's
generation moves (an ingest here, or in another process against the same Chroma server), the BM25
index is refreshed from the store in the background (``cited/store/lexical_freshness.py``); until then,
the old one answers, with hidden and deleted chunks dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from cited.models.embedding import Embedder, MultilingualEmbedder
from cited.settings import Settings
from cited.store.chunk_store import ChunkStore
from cited.store.chunks import ScoredChunk, document_of
from cited.store.lexical_freshness import LexicalFreshness
from cited.store.search_filter import EVERYTHING, SearchFilter
from cited.store.state import StoreState
from service.answering.fusion import fuse

log = logging.getLogger("cited")
T = TypeVar("T")
# Searches retried when each overlaps a write of the state record; writes come seconds apart
# (one per published group), so a second try almost always succeeds.
_READ_ATTEMPTS = 5


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
        lexical: LexicalFreshness,
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

    # Consistency with concurrent ingests
    def consistent(self, search: Callable[[StoreState], T]) -> T:
        """``search(state)`` run until no write of the state record overlapped it."""
        state = self.store.state()
        result = search(state)
        for _ in range(_READ_ATTEMPTS - 1):
            after = self.store.state()
            if after.seq == state.seq:
                break
            state = after
            result = search(state)
        self.lexical.follow(state)
        return result

    def retrieve(
        self,
        question: str,
        k: int,
        groups: frozenset[str] | None = None,
        documents: frozenset[str] | None = None,
        favoured: frozenset[str] | None = None,
    ) -> Retrieval:
        """The ``k`` best passages; several may come from one document. ``favoured``: documents the
        question names (``named_documents.py``), searched on their own as well and their passages'
        scores raised by ``FAVOUR``; the others still compete."""
        started = time.perf_counter()

        search_filter = SearchFilter(groups, documents)

        def search(state: StoreState) -> Retrieval:
            vector, ranked = self.ranked(question, k, search_filter, state)
            if favoured:
                _, named = self.ranked(question, k, SearchFilter(groups, favoured), state)
                ranked = favour(ranked, named, favoured)
            return Retrieval(self.passages(ranked[:k], state), vector)

        found = self.consistent(search)
        return Retrieval(found.passages, found.query_vector, _since(started, "retrieve"))

    def ranked(
        self, question: str, k: int, search_filter: SearchFilter, state: StoreState
    ) -> tuple[np.ndarray | None, list[tuple[str, float]]]:
        """The question's MiniLM vector (when used) and the best ``k`` (chunk id, score) pairs."""
        mode = self.settings.retrieval
        if mode == "bm25":
            return None, self._lexical(question, k, search_filter, state)
        if mode == "dense":
            vector = self.embedder.embed_query(question)
            return vector, self._nearest(vector, k, search_filter, state)
        vector, lists = self.candidates(question, max(k, self.settings.candidates), search_filter, state)
        return vector, fuse(lists, self.weights, self.settings.fusion_window)[:k]

    def _nearest(
        self,
        vector: np.ndarray,
        k: int,
        search_filter: SearchFilter,
        state: StoreState,
        multilingual: bool = False,
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest visible chunks. Hidden ones exist only while an ingest publishes a
        group, so the search then asks for more, and for everything if that was not enough."""

        def nearest(n: int) -> list[tuple[str, float]]:
            return self.store.nearest(vector, n, multilingual, search_filter)

        readable = self._nearest_readable(vector, k, search_filter, state, multilingual)
        if readable is not None:
            return readable
        if not state.hidden:
            return nearest(k)
        hits = [h for h in nearest(2 * k) if state.visible(h[0])]
        if len(hits) < k:
            hits = [h for h in nearest(self.store.count()) if state.visible(h[0])]
        return hits[:k]

    def _nearest_readable(
        self,
        vector: np.ndarray,
        k: int,
        search_filter: SearchFilter,
        state: StoreState,
        multilingual: bool,
    ) -> list[tuple[str, float]] | None:
        """The ``k`` nearest chunks the caller's groups may read, found without a Chroma ``where``;
        None when this way cannot answer, and the filtered search must.

        Chroma evaluates a ``where`` on group flags over every chunk's metadata before searching: 35
        ms against 3 ms unfiltered at 11k chunks. Instead, ``group_overfetch`` times ``k`` chunks
        come back unfiltered and the BM25 index's record of each chunk's groups decides. That
        record is trusted only when the index is at the state's generation: a re-labelled document
        moves the generation, so groups are never read from before a change. A narrow scope (a small
        group) leaves fewer than ``k`` readable; then the filtered search runs, so results are
        complete either way. A reader's chosen documents always use the filter: few by nature.
        """
        groups = search_filter.groups
        if (
            groups is None
            or search_filter.documents is not None
            or search_filter.empty
            or self.settings.group_overfetch < 1
            or state.generation != self.lexical.generation
        ):
            return None
        wide = k * self.settings.group_overfetch
        found = self.store.nearest(vector, wide, multilingual)
        hits = [h for h in found if state.visible(h[0])]
        verdicts = self.lexical.index.readable([chunk_id for chunk_id, _ in hits], groups)
        if None in verdicts:
            return None  # a chunk the index does not hold: it lags the store after all
        kept = [hit for hit, ok in zip(hits, verdicts, strict=True) if ok]
        # Fewer than asked for came back only when the store holds no more: nothing was missed.
        if len(kept) >= k or len(found) < wide:
            return kept[:k]
        return None

    def _lexical(
        self, question: str, k: int, search_filter: SearchFilter, state: StoreState
    ) -> list[tuple[str, float]]:
        lexical = self.lexical.index  # one index for the whole search, even if a refresh swaps it
        depth = k if not state.hidden and state.generation == self.lexical.generation else 2 * k
        hits = [
            (h.chunk_id, h.score)
            for h in lexical.search(question, depth, search_filter)
            if state.visible(h.chunk_id)
        ]
        return hits[:k]

    @property
    def weights(self) -> dict[str, float]:
        return {
            "bm25": self.settings.fusion_bm25,
            "dense": self.settings.fusion_dense,
            "multilingual": self.settings.fusion_multilingual,
        }

    def candidates(
        self,
        question: str,
        depth: int,
        search_filter: SearchFilter = EVERYTHING,
        state: StoreState | None = None,
    ) -> tuple[np.ndarray, dict[str, list[tuple[str, float]]]]:
        """The question's MiniLM vector and each voter's (chunk id, score) list, best first."""
        pending = None
        if self.uses_multilingual and self._pool is not None and self.multilingual is not None:
            pending = self._pool.submit(self.multilingual.embed_query, question)
        state = state or self.store.state()
        vector = self.embedder.embed_query(question)
        lists = {
            "dense": self._nearest(vector, depth, search_filter, state),
            "bm25": self._lexical(question, depth, search_filter, state),
        }
        if pending is not None:
            lists["multilingual"] = self._nearest(
                pending.result(), depth, search_filter, state, multilingual=True
            )
        return vector, lists

    def passages(self, ranked: list[tuple[str, float]], state: StoreState) -> list[ScoredChunk]:
        chunks = self.store.fetch([chunk_id for chunk_id, _ in ranked if state.visible(chunk_id)])
        # An id the store no longer holds (deleted since the index was read) is skipped.
        return [ScoredChunk(chunks[i], score) for i, score in ranked if i in chunks]


# How much a named document's passages are favoured: its best passage, scored among its own
# document's, against the best anywhere. Chosen before measuring (not fitted on any benchmark): enough
# to lift a named filing's passages over another company's on the same words, not enough to bury
# a passage that matches the question far better.
FAVOUR = 1.5


def favour(
    everywhere: list[tuple[str, float]], named: list[tuple[str, float]], favoured: frozenset[str]
) -> list[tuple[str, float]]:
    """One ranking from a search over everything and one over the ``favoured`` documents, whose
    passages rank by ``FAVOUR`` times their best score in either. Each keeps the score of the search
    that found it (over everything when both did), so scores stay on the retriever's scale."""
    ranking = {cid: s * FAVOUR if document_of(cid) in favoured else s for cid, s in everywhere}
    kept = dict(everywhere)
    for cid, s in named:
        ranking[cid] = max(ranking.get(cid, 0.0), s * FAVOUR)
        kept.setdefault(cid, s)
    order = sorted(ranking, key=lambda cid: -ranking[cid])
    return [(cid, kept[cid]) for cid in order]


def _since(started: float, name: str) -> dict[str, float]:
    return {name: round((time.perf_counter() - started) * 1000, 2)}
