"""Vectors of the spans of a passage (sentences, headings, list items), pooled from the passage's own
encoder pass at ingest and stored with the chunk, so answering a question never runs the encoder
over the sentences of the passages it retrieved.

Each span's vector is the mean of the passage's contextual token vectors over the span's tokens
(``Embedder.embed_with_spans``), unit length. Stored as int8 (one byte a dimension, ``round(127 *
x)``; cosines move by under 0.01) in base64 in the chunk's metadata: about 512 characters a span.
A span past the encoder's 256-token window has no tokens to pool and is stored as zeros, which
:func:`decode` returns as NaN rows, so the answer path embeds those spans itself.
"""

from __future__ import annotations

import base64

import numpy as np

_SCALE = 127.0


def encode(vectors: np.ndarray) -> str:
    """``vectors`` (spans x dimension, unit rows; NaN rows: no vector) as a metadata string."""
    quantised = np.nan_to_num(np.round(vectors * _SCALE), nan=0.0).clip(-127, 127).astype(np.int8)
    return base64.b64encode(quantised.tobytes()).decode("ascii")


def decode(text: str, dimension: int) -> np.ndarray:
    """The unit vectors :func:`encode` stored, a NaN row for each span that had none."""
    raw = np.frombuffer(base64.b64decode(text), dtype=np.int8).astype(np.float32)
    vectors = raw.reshape(-1, dimension) / _SCALE
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, vectors / norms, np.nan)


def pool(token_vectors: np.ndarray, offsets: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Mean of the token vectors inside each character span, unit length; NaN where a span has no
    token (it lies past the encoder's window). ``offsets`` are the tokens' (start, end) characters,
    (0, 0) for special tokens, in the order of ``token_vectors``'s rows."""
    out = np.full((len(spans), token_vectors.shape[1]), np.nan, dtype=np.float32)
    starts, ends = offsets[:, 0], offsets[:, 1]
    real = ends > starts
    for row, (a, b) in enumerate(spans):
        inside = real & (starts >= a) & (ends <= b)
        if inside.any():
            mean = token_vectors[: len(offsets)][inside].mean(axis=0)
            out[row] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return out
