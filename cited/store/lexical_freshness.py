"""The one owner of "is BM25 up to date with the store?".

BM25 lives in files beside the store (``cited/store/lexical.py``); Chroma is the truth. After an ingest
here, at service start, and whenever a search sees that the store's generation moved (an ingest in
another process against the same Chroma server), the index is brought up to date through this one
object, which the ingest and the retriever of a process share.
"""

from __future__ import annotations

import logging
import threading
import time

from cited.settings import Settings
from cited.store.chunk_store import ChunkStore
from cited.store.lexical import LexicalIndex, open_lexical, sync_lexical
from cited.store.state import StoreState

log = logging.getLogger("cited")


class LexicalFreshness:
    def __init__(self, settings: Settings, store: ChunkStore) -> None:
        self.settings = settings
        self.store = store
        self.index: LexicalIndex = open_lexical(settings)
        self.generation: int | None = None  # the store generation ``index`` matches; None: unknown
        self._refreshing = threading.Lock()

    def catch_up(self) -> bool:
        """Bring the index up to date with the store now; True when it had to be rebuilt."""
        return self._refresh(self.store.state().generation)

    def follow(self, state: StoreState) -> None:
        """Refresh in the background when ``state`` (read by a search) is a newer generation; until
        then the old index answers, and searches drop chunks it lists that are hidden or gone."""
        if state.generation != self.generation and not self._refreshing.locked():
            threading.Thread(
                target=self._refresh, args=(state.generation,), name="bm25-refresh", daemon=True
            ).start()

    def _refresh(self, generation: int) -> bool:
        with self._refreshing:
            if generation == self.generation:
                return False
            started = time.perf_counter()
            # A new object, swapped in whole: a search running now keeps the index it started with.
            fresh = open_lexical(self.settings)
            rebuilt = sync_lexical(self.store, fresh)
            self.index = fresh
            self.generation = generation
            log.info(
                "BM25 follows store generation %d (%s in %.2f s)",
                generation,
                "rebuilt" if rebuilt else "loaded",
                time.perf_counter() - started,
            )
            return rebuilt
