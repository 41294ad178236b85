"""Fusing the candidate lists of several retrievers (BM25, dense vectors) into one ranking.

Each retriever's scores are min-max normalised over its first ``window`` candidates: its best
candidate gets 1, its ``window``-th gets 0, and anything further down is clipped to 0. A chunk's
fused score is the weighted sum over the lists it appears in; a list it is missing from adds 0.

Normalising over a fixed window, not over however many candidates were fetched, keeps the order of
the top results the same whether 5 or 300 are asked for. On SciFact's training queries this score
fusion beat reciprocal rank fusion (see reports/retrieval-tuning.md, ``cited bench tune``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Ranked = Sequence[tuple[str, float]]  # (chunk id, score), best first


def normalise(scores: Sequence[float], window: int) -> list[float]:
    if not scores:
        return []
    top = scores[: max(window, 1)]
    high, low = max(top), min(top)
    if high - low <= 1e-12:
        return [1.0 if s >= high else 0.0 for s in scores]
    return [max(0.0, (s - low) / (high - low)) for s in scores]


def fuse(lists: Mapping[str, Ranked], weights: Mapping[str, float], window: int) -> list[tuple[str, float]]:
    """One ranking from several: (chunk id, fused score), best first; ties keep the first seen."""
    fused: dict[str, float] = {}
    for name, ranked in lists.items():
        weight = weights.get(name, 0.0)
        if weight <= 0 or not ranked:
            continue
        for (chunk_id, _), value in zip(ranked, normalise([s for _, s in ranked], window), strict=True):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight * value
    return sorted(fused.items(), key=lambda item: -item[1])
