"""The eval suite's configuration: the thresholds it gates on and the fitted judge parameters.

Both live in ``evals/config.toml`` so a change to either is a reviewed diff. Every threshold is a
minimum and was set from a measured run, not an aspiration; raise it when the product improves.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from evals.judge import JudgeParams

CONFIG = Path(__file__).parent / "config.toml"

# What a threshold may name: the metrics `evals/suite.py` computes. Latency is reported, not gated:
# on a shared 2-core machine it measures the neighbours as much as Cited (see `make bench`).
GATED = (
    "retrieval.hit@1",
    "retrieval.hit@3",
    "retrieval.hit@5",
    "retrieval.mrr",
    "retrieval.evidence_hit@5",
    "answer.fact_recall",
    "answer.answered",
    "answer.precision",
    "answer.useful",
    "follow_up.useful",
    "follow_up.self_contained_unchanged",
    "citations.recall",
    "citations.precision",
    "groundedness",
    "abstention.precision",
    "abstention.recall",
)


class ConfigError(Exception):
    """The config file is missing or names something wrong; the message says what."""


@dataclass(frozen=True)
class EvalConfig:
    thresholds: dict[str, float]
    judge: JudgeParams
    judge_min_accuracy: float


@dataclass(frozen=True)
class Shortfall:
    metric: str
    value: float | None
    threshold: float


def load_config(path: Path = CONFIG) -> EvalConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file; pass --config with the path of one") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    thresholds = raw.get("thresholds", {})
    unknown = sorted(set(thresholds) - set(GATED))
    if unknown:
        raise ConfigError(f"{path}: unknown metric(s) {unknown} under [thresholds]; known: {list(GATED)}")
    for name, value in thresholds.items():
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ConfigError(f"{path}: threshold {name} = {value!r} must be a number from 0 to 1")
    judge = raw.get("judge", {})
    try:
        params = JudgeParams(
            weight=float(judge["weight"]),
            threshold=float(judge["threshold"]),
            negation=bool(judge["negation"]),
        )
        min_accuracy = float(judge["min_accuracy"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(
            f"{path}: [judge] needs numbers weight, threshold, min_accuracy and a boolean negation"
        ) from None
    return EvalConfig({k: float(v) for k, v in thresholds.items()}, params, min_accuracy)


def shortfalls(metrics: dict[str, float | None], thresholds: dict[str, float]) -> list[Shortfall]:
    """Every gated metric below its threshold; a metric that could not be computed falls short."""
    return [
        Shortfall(name, metrics.get(name), minimum)
        for name, minimum in thresholds.items()
        if metrics.get(name) is None or metrics[name] < minimum  # type: ignore[operator]
    ]
