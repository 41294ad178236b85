"""Fitting the cut between ``closest`` and ``not_found`` (``service/answering/relevance.py``).

It learns from the same asked questions as the span model (``evals/answer_training.py``): the dev
questions over ``corpus/`` and the shared SQuAD articles, never the golden set. A question is
labelled relevant when the documents answer it. Its row is read from span probabilities of a span
model fitted without its article or document (out of fold), so the rows look like those of a
question the shipped model has never seen.

``not_found`` tells the reader that the documents do not cover the question, which is false for
every answerable question it is said of, so the cut is set for recall: the highest probability that
still keeps ``MIN_RECALL`` of the answerable questions of each source, out of fold, above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from evals.answer_training import AskedQuestion, holds, standardised_logistic
from service.answering.learned_selection import CLOSEST_PASSAGES, KEPT_FROM_ANSWER, closest_indices
from service.answering.relevance import QUESTION_FEATURES, RelevanceModel, question_row

MIN_RECALL = 0.995
REGULARISATION = 1.0  # scikit-learn's C: eight features, thousands of questions


@dataclass(frozen=True)
class RelevanceRows:
    rows: np.ndarray  # one ``QUESTION_FEATURES`` row per question with a candidate span
    labels: np.ndarray  # 1: answerable
    sources: np.ndarray  # "dev" or "squad"
    groups: np.ndarray
    kept: np.ndarray  # indices into the asked questions (those with no candidate are not_found)


def relevance_rows(asked: Sequence[AskedQuestion], probabilities: Sequence[np.ndarray]) -> RelevanceRows:
    kept = [i for i, a in enumerate(asked) if len(a.rows)]
    return RelevanceRows(
        rows=np.asarray([question_row(asked[i].rows, probabilities[i]) for i in kept]).reshape(
            len(kept), len(QUESTION_FEATURES)
        ),
        labels=np.array([asked[i].answerable for i in kept], dtype=np.int8),
        sources=np.array([asked[i].source for i in kept]),
        groups=np.array([asked[i].group for i in kept]),
        kept=np.array(kept, dtype=np.int64),
    )


def shown_passages(
    question: AskedQuestion, probabilities: np.ndarray, wide_probabilities: np.ndarray | None = None
) -> list[str]:
    """The texts of the closest passages the service would show for ``question``: its two most
    probable, then the most probable other one of its wider pool, when it was asked with one
    (``AskedQuestion.wide``) and that pool's probabilities are given (``LearnedSelector.select``)."""
    wide = question.wide if wide_probabilities is not None else None
    kept = KEPT_FROM_ANSWER if wide is not None else CLOSEST_PASSAGES
    shown = [
        question.passages[int(question.span_passages[i])]
        for i in closest_indices(question.span_passages, probabilities, kept)
    ]
    if wide is not None:
        assert wide_probabilities is not None
        for i in closest_indices(wide.span_passages, wide_probabilities, CLOSEST_PASSAGES + kept):
            text = wide.passages[int(wide.span_passages[i])]
            if len(shown) == CLOSEST_PASSAGES:
                break
            if text not in shown:
                shown.append(text)
    return shown


def useful_when_closest(question: AskedQuestion, probabilities: np.ndarray) -> bool:
    """Whether a gold answer is in the closest passages shown."""
    return question.answerable and any(
        holds(text, question.gold, question.source) for text in shown_passages(question, probabilities)
    )


def _fit(rows: np.ndarray, labels: np.ndarray) -> RelevanceModel:
    from sklearn.linear_model import LogisticRegression

    if len(set(labels.tolist())) < 2:
        # With no question of the other kind to learn from (a fold that holds out every unanswerable
        # one), nothing can be called irrelevant: every question is shown its closest passages.
        mean = rows.mean(axis=0) if len(rows) else np.zeros(len(QUESTION_FEATURES))
        return RelevanceModel(
            QUESTION_FEATURES,
            tuple(float(x) for x in mean),
            (1.0,) * len(QUESTION_FEATURES),
            (0.0,) * len(QUESTION_FEATURES),
            10.0 if labels.all() else -10.0,
            0.5,
        )
    regression = LogisticRegression(C=REGULARISATION, max_iter=2000, class_weight="balanced")
    return RelevanceModel(
        features=QUESTION_FEATURES, **standardised_logistic(rows, labels, regression), threshold=0.5
    )


def out_of_fold(data: RelevanceRows, folds: int = 5) -> np.ndarray:
    """Each question's relevance probability from a model fitted without its group."""
    from sklearn.model_selection import GroupKFold

    result = np.zeros(len(data.labels))
    splitter = GroupKFold(n_splits=min(folds, len(set(data.groups))))
    for train, test in splitter.split(data.rows, groups=data.groups):
        model = _fit(data.rows[train], data.labels[train])
        result[test] = [model.probability(row) for row in data.rows[test]]
    return result


def recall_cut(probabilities: np.ndarray, labels: np.ndarray, sources: np.ndarray) -> float:
    """The highest cut that keeps ``MIN_RECALL`` of each source's answerable questions at or above it."""
    cuts = []
    for source in sorted(set(sources)):
        answerable = np.sort(probabilities[(sources == source) & (labels == 1)])
        if len(answerable):
            cuts.append(float(answerable[int(np.floor((1 - MIN_RECALL) * len(answerable)))]))
    return round(min(cuts), 4) if cuts else 0.5


def fit_relevance(asked: Sequence[AskedQuestion], probabilities: Sequence[np.ndarray]) -> RelevanceModel:
    """The model on every question, its cut chosen out of fold; ``probabilities`` are each
    question's out-of-fold span probabilities."""
    data = relevance_rows(asked, probabilities)
    held_out = out_of_fold(data)
    cut = recall_cut(held_out, data.labels, data.sources)
    model = _fit(data.rows, data.labels)
    predicted = held_out >= cut
    about: dict[str, object] = {
        "fitted_by": "cited train answers",
        "questions": {s: int((data.sources == s).sum()) for s in sorted(set(data.sources))},
        "min_recall": MIN_RECALL,
        "regularisation_C": REGULARISATION,
    }
    for source in sorted(set(data.sources)):
        mine = data.sources == source
        about[f"out_of_fold_{source}"] = {
            "answerable_kept": round(float(predicted[mine & (data.labels == 1)].mean()), 4),
            "unanswerable_not_found": round(float((~predicted)[mine & (data.labels == 0)].mean()), 4)
            if (mine & (data.labels == 0)).any()
            else None,
            "auc": _auc(data.labels[mine], held_out[mine]),
        }
    return replace(model, threshold=cut, about=about)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(labels, scores)), 4) if len(set(labels)) == 2 else None
