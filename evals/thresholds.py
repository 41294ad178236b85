"""Candidate thresholds for a score that separates two classes, shared by every calibration here."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise


def candidate_cuts(scores: Iterable[float]) -> list[float]:
    """Every distinct way to split the scores: below all, halfway between each pair of neighbouring
    values, and above all. Halfway, so a new score near either neighbour lands on its own side."""
    values = sorted(set(scores))
    if not values:
        return []
    return [values[0] - 0.01, *((a + b) / 2 for a, b in pairwise(values)), values[-1] + 0.01]
