"""The learned answer step's model: a logistic regression over ``span_features.FEATURES`` that gives
each candidate span the probability that it answers the question, and the cut on the best span's
probability below which Cited abstains.

It is fitted by ``cited train answers`` (``evals/answer_training.py``) on the shared SQuAD 2.0
articles and ``evals/data/dev_questions.jsonl``, every choice made by cross-validation grouped by
article, and committed as ``span_model.json`` beside this file (a few kilobytes). Scoring is a dot
product: no scikit-learn at question time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from service.answering.span_features import FEATURES

MODEL_PATH = Path(__file__).with_name("span_model.json")


class AnswerModelError(Exception):
    """The model file is missing, or was fitted on other features than this code computes."""


@dataclass(frozen=True)
class AnswerModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coefficients: tuple[float, ...]
    intercept: float
    threshold: float  # the best span's probability below which Cited abstains
    # A further span is quoted when its probability is at least this share of the best one's.
    companion_ratio: float
    about: dict[str, Any] = field(default_factory=dict)  # how it was fitted and what CV measured

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        return logistic(self, rows)

    def save(self, path: Path = MODEL_PATH) -> None:
        write_model(self, path)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerModel:
        fields, raw = read_model(path, FEATURES, AnswerModelError)
        return cls(**fields, companion_ratio=float(raw["companion_ratio"]))


class Logistic(Protocol):
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coefficients: tuple[float, ...]
    intercept: float


def logistic(model: Logistic, rows: np.ndarray) -> np.ndarray:
    """The model's probability for each row of standardised features (one row or several)."""
    if np.ndim(rows) == 2 and len(rows) == 0:
        return np.zeros(0)
    z = ((rows - np.asarray(model.mean)) / np.asarray(model.scale)) @ np.asarray(model.coefficients)
    return 1.0 / (1.0 + np.exp(-(z + model.intercept)))


def write_model(model: Any, path: Path) -> None:
    """A fitted model (a dataclass) as the JSON file Cited ships: a few kilobytes, reviewed as a diff."""
    path.write_text(json.dumps(asdict(model), indent=1) + "\n", encoding="utf-8")


def read_model(
    path: Path, features: tuple[str, ...], error: type[Exception]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields every shipped logistic model has, and the whole file for the rest; ``error`` when
    the file is missing or was fitted on other ``features`` than this code computes."""
    if not path.is_file():
        raise error(f"{path} is missing: run `cited train answers` to fit it")
    raw = json.loads(path.read_text(encoding="utf-8"))
    fields = {
        "features": tuple(raw["features"]),
        "mean": tuple(raw["mean"]),
        "scale": tuple(raw["scale"]),
        "coefficients": tuple(raw["coefficients"]),
        "intercept": float(raw["intercept"]),
        "threshold": float(raw["threshold"]),
        "about": dict(raw.get("about", {})),
    }
    if fields["features"] != features:
        raise error(
            f"{path} was fitted on other features than this version computes: run `cited train answers`"
        )
    return fields, raw


@cache
def shipped_model() -> AnswerModel:
    return AnswerModel.load()
