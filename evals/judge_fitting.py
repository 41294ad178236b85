"""Fitting and scoring a support judge on the labelled pairs (``evals/data/support_pairs.jsonl``).

The pairs are claims about passages quoted from ``corpus/``, labelled by hand. ``fit`` searches the
overlap judge's weight and threshold for the best accuracy; ``cross_validated`` estimates how that
fit does on pairs it was not fitted on (scikit-learn's stratified k-fold); ``score_verdicts``
compares any judge's verdicts with the labels (scikit-learn's metrics).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, precision_score, recall_score
from sklearn.model_selection import StratifiedKFold

from evals.judge import Features, JudgeParams
from evals.thresholds import candidate_cuts

SUPPORT_PAIRS = Path(__file__).parent / "data" / "support_pairs.jsonl"
# Folds are shuffled once, with a fixed seed, so a report can be reproduced exactly.
FOLD_SEED = 0


@dataclass(frozen=True)
class LabelledPair:
    id: str
    claim: str
    passages: list[str]
    sources: list[str]
    supported: bool
    kind: str


def load_pairs(path: Path = SUPPORT_PAIRS) -> list[LabelledPair]:
    with path.open(encoding="utf-8") as lines:
        return [LabelledPair(**json.loads(line)) for line in lines if line.strip()]


@dataclass(frozen=True)
class JudgeScore:
    pairs: int
    accuracy: float
    precision: float  # of "supported" verdicts, how many were right
    recall: float  # of supported pairs, how many were found
    by_kind: dict[str, float]
    wrong: list[str]  # ids


def score_verdicts(pairs: Sequence[LabelledPair], verdicts: Sequence[bool]) -> JudgeScore:
    labels = [p.supported for p in pairs]
    right = [v == label for v, label in zip(verdicts, labels, strict=True)]
    kinds: dict[str, list[bool]] = {}
    for pair, ok in zip(pairs, right, strict=True):
        kinds.setdefault(pair.kind, []).append(ok)
    return JudgeScore(
        pairs=len(pairs),
        accuracy=float(accuracy_score(labels, verdicts)) if pairs else 0.0,
        precision=float(precision_score(labels, verdicts, zero_division=0)),
        recall=float(recall_score(labels, verdicts, zero_division=0)),
        by_kind={k: round(sum(v) / len(v), 3) for k, v in sorted(kinds.items())},
        wrong=[p.id for p, ok in zip(pairs, right, strict=True) if not ok],
    )


WEIGHTS = tuple(round(0.05 * i, 2) for i in range(21))


def fit(features: Sequence[Features], labels: Sequence[bool], negation: bool = True) -> JudgeParams:
    """The weight and threshold of best accuracy; the threshold sits halfway between scores.

    Ties go to the higher threshold: a judge that says "supported" too easily flatters the product.
    """
    best: tuple[float, float, JudgeParams] | None = None
    for weight in WEIGHTS:
        for cut in candidate_cuts(f.score(weight) for f in features):
            params = JudgeParams(weight, round(cut, 4), negation)
            hits = sum(
                (f.gates(negation) and f.score(weight) >= cut) == label
                for f, label in zip(features, labels, strict=True)
            )
            key = (hits / len(labels), cut)
            if best is None or key > best[:2]:
                best = (*key, params)
    assert best is not None
    return best[2]


def cross_validated(
    features: Sequence[Features], labels: Sequence[bool], folds: int = 5, negation: bool = True
) -> float:
    """Accuracy when each pair is judged with parameters fitted without its fold (stratified, so
    every fold holds supported and unsupported pairs in the set's proportion)."""
    if not labels:
        return 0.0
    verdicts = [False] * len(labels)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=FOLD_SEED)
    for train, held_out in splitter.split(np.zeros(len(labels)), list(labels)):
        params = fit([features[i] for i in train], [labels[i] for i in train], negation)
        for i in held_out:
            f = features[i]
            verdicts[i] = f.gates(negation) and f.score(params.weight) >= params.threshold
    return float(accuracy_score(list(labels), verdicts))
