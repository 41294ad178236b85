"""Whether the retrieved passages look relevant when the answer step is unsure: the cut between the
``closest`` and ``not_found`` outcomes.

A question the step does not answer is shown its closest passages unless this model says nothing
retrieved is about it; only then may Cited say the documents do not cover the question. It reads
one row per question, taken from the span model's rows and probabilities (``QUESTION_FEATURES``),
so it costs nothing beyond the answer step. It is a logistic regression fitted by
``cited train answers`` (``evals/relevance_training.py``) out of fold on the dev questions and the
shared SQuAD articles, and committed as ``relevance_model.json`` beside this file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from service.answering.span_features import FEATURES
from service.answering.span_model import logistic, read_model, write_model

MODEL_PATH = Path(__file__).with_name("relevance_model.json")

# Four features, each one monotone (more is more relevant): of the eight tried, the rest (retrieval's
# top score, coverage without context, the rarest missing word, the question's length) raised no
# out-of-fold AUC and came out with signs that no reader could explain (``cited train answers``).
QUESTION_FEATURES = (
    "best_probability_logit",  # the span model's best span
    "best_dense",  # the closest span in meaning
    "best_coverage_idf_context",  # the share of the question's rare words one span (with its
    # heading and its document's title) holds
    "best_names_covered",  # the question's names found near one span (1 when it names none)
)
_COLUMN = {name: FEATURES.index(name) for name in FEATURES}


def question_row(rows: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """``QUESTION_FEATURES`` of one question, from its candidate spans' rows and probabilities."""
    best = float(np.clip(probabilities.max(), 1e-6, 1 - 1e-6))
    return np.array(
        [
            math.log(best / (1 - best)),
            rows[:, _COLUMN["dense"]].max(),
            rows[:, _COLUMN["coverage_idf_context"]].max(),
            rows[:, _COLUMN["names_covered"]].max(),
        ],
        dtype=np.float64,
    )


class RelevanceModelError(Exception):
    """The model file is missing, or was fitted on other features than this code computes."""


@dataclass(frozen=True)
class RelevanceModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coefficients: tuple[float, ...]
    intercept: float
    # Below this probability nothing retrieved is about the question: ``not_found``.
    threshold: float
    about: dict[str, Any] = field(default_factory=dict)

    def probability(self, row: np.ndarray) -> float:
        return float(logistic(self, row))

    def relevant(self, row: np.ndarray) -> bool:
        return self.probability(row) >= self.threshold

    def save(self, path: Path = MODEL_PATH) -> None:
        write_model(self, path)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> RelevanceModel:
        fields, _ = read_model(path, QUESTION_FEATURES, RelevanceModelError)
        return cls(**fields)


@cache
def shipped_relevance() -> RelevanceModel:
    return RelevanceModel.load()
