"""The lexical index: BM25 over the same chunks as Chroma, with the same chunk ids.

bm25s does the scoring (Lucene BM25), PyStemmer the English Snowball stemming. Stop words are
NLTK's English list (198 words, bundled with llama-index-core), the same list the answerer uses:
Lucene's default 33 keep "who", "what", "how", which in a question only add noise. On SciFact's train
queries NLTK's list also scored higher for BM25 alone (nDCG@10 0.695 vs 0.689).

The index is always built from the chunks in the store, so it can never disagree with Chroma about
which chunks exist. Each build is saved in a folder named after
the store content it was built from, and a ``CURRENT`` file, replaced atomically, names the live one:
an ingest killed mid-build leaves the previous index in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cited.settings import Settings
from cited.store import Chunk, ChunkStore

if TYPE_CHECKING:
    import bm25s

FORMAT_VERSION = "2"  # 2: NLTK stop words


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@cache
def english_stopwords() -> frozenset[str]:
    from llama_index.core.utils import globals_helper

    return frozenset(globals_helper.stopwords)


def tokenize(texts: list[str]) -> Any:
    import bm25s

    return bm25s.tokenize(
        texts, stopwords=sorted(english_stopwords()), stemmer=_stemmer(), show_progress=False
    )


def content_fingerprint(chunk_ids: Iterable[str], k1: float, b: float) -> str:
    """Names the store content and parameters an index was built from (ids are content hashes)."""
    digest = hashlib.sha256(f"{FORMAT_VERSION}|{k1}|{b}".encode())
    for chunk_id in sorted(chunk_ids):
        digest.update(chunk_id.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class LexicalHit:
    chunk_id: str
    score: float


class LexicalIndex:
    def __init__(self, folder: Path, k1: float = 1.2, b: float = 0.75) -> None:
        self.folder = folder
        self.k1 = k1
        self.b = b
        self._model: bm25s.BM25 | None = None
        self._ids: list[str] = []
        self.fingerprint: str | None = None

    # Building
    def build(self, ids: Sequence[str], texts: Sequence[str]) -> str:
        """Index ``texts`` under ``ids``, save it, make it current; return its fingerprint."""
        import bm25s

        fingerprint = content_fingerprint(ids, self.k1, self.b)
        target = self.folder / fingerprint
        if not (target / "ids.json").exists():
            partial = self.folder / f".building-{fingerprint}-{os.getpid()}"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            if ids:
                model = bm25s.BM25(k1=self.k1, b=self.b)
                model.index(tokenize(list(texts)), show_progress=False)
                model.save(str(partial), show_progress=False)
            (partial / "ids.json").write_text(json.dumps(list(ids)))
            shutil.rmtree(target, ignore_errors=True)
            partial.rename(target)
        self._point_to(fingerprint)
        self._prune(keep=fingerprint)
        self.load()
        return fingerprint

    def _point_to(self, fingerprint: str) -> None:
        pointer = self.folder / "CURRENT"
        temporary = self.folder / f".CURRENT-{os.getpid()}"
        temporary.write_text(fingerprint)
        temporary.replace(pointer)

    def _prune(self, keep: str) -> None:
        for entry in self.folder.iterdir():
            if entry.is_dir() and entry.name != keep and not entry.name.startswith(".building-"):
                shutil.rmtree(entry, ignore_errors=True)

    # Reading
    def current(self) -> str | None:
        pointer = self.folder / "CURRENT"
        return pointer.read_text().strip() if pointer.exists() else None

    def load(self) -> bool:
        """Load the current index; False when there is none on disk."""
        import bm25s

        fingerprint = self.current()
        if fingerprint is None or not (self.folder / fingerprint / "ids.json").exists():
            return False
        where = self.folder / fingerprint
        self._ids = json.loads((where / "ids.json").read_text())
        self._model = bm25s.BM25.load(str(where), show_progress=False) if self._ids else None
        self.fingerprint = fingerprint
        return True

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[LexicalHit]:
        """Best ``k`` chunks for ``query``; chunks matching no query term are left out.

        ``allowed`` is an optional 0/1 mask over the indexed chunks, applied before ranking.
        """
        if self._model is None or not self._ids or k <= 0:
            return []
        tokens = tokenize([query])
        if not tokens.ids or not tokens.ids[0]:
            return []  # nothing but stop words
        k = min(k, len(self._ids))
        rows, scores = self._model.retrieve(
            tokens, k=k, show_progress=False, n_threads=1, weight_mask=allowed
        )
        return [
            LexicalHit(self._ids[int(row)], float(score))
            for row, score in zip(rows[0], scores[0], strict=True)
            if score > 0
        ]


def open_lexical(settings: Settings) -> LexicalIndex:
    return LexicalIndex(settings.lexical_dir, k1=settings.bm25_k1, b=settings.bm25_b)


def sync_lexical(store: ChunkStore, index: LexicalIndex) -> bool:
    """Make the BM25 index match the store's chunks; True when it had to be (re)built.

    Cheap when nothing changed: the chunk ids are read (no texts) and compared by fingerprint.
    """
    wanted = content_fingerprint((i for i, _ in store.inventory()), index.k1, index.b)
    if index.fingerprint == wanted or (index.current() == wanted and index.load()):
        return False
    ids: list[str] = []
    texts: list[str] = []
    for chunk_id, text, meta in store.texts():
        ids.append(chunk_id)
        texts.append(Chunk.from_record(chunk_id, text, meta).indexed_text())
    index.build(ids, texts)
    return True
