"""Fitting the learned answer step (``cited train answers``) and scoring it out of sample.

Training questions come from two places, each asked through the real ingest, retrieval and
candidate spans:

- the 8 shared SQuAD 2.0 articles (``../shared/benchmarks/squad2-dev``), ingested as one open
  corpus; a span is positive when it holds a gold answer (SQuAD's normalisation), and every span of
  an unanswerable question is negative;
- ``evals/data/dev_questions.jsonl`` over ``corpus/``; a span is positive when it holds one of the
  question's expected facts. ``golden.jsonl`` is never read here.

Every choice (regularisation, how much a dev question weighs against a SQuAD one, the abstention
cut, how close a second span must come to the best) is made by cross-validation grouped by article
(SQuAD) or document (dev), so no article's questions both fit and judge a choice, and judged on
the questions of the corpus the model will serve (``fit``'s ``calibrate_on``). The chosen settings
are then fitted on all of it.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from cited.errors import InvalidInputError
from cited.models.embedding import configured_embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from cited.store.chunks import ScoredChunk
from cited.text.features import expected_answer_type
from evals.questions import GOLDEN_QUESTIONS, Question, load
from evals.squad import SquadQuestion, contains_answer
from ingest.loading import FileSource
from ingest.sync import Ingestor
from service.answering.answer_service import AnswerService
from service.answering.learned_selection import CLOSEST_POOL, typed
from service.answering.learned_selection import quoted as quoted_spans
from service.answering.selection import Selection
from service.answering.span_features import FEATURES, CandidateSpan
from service.answering.span_model import AnswerModel

# The choices cross-validation picks from.
REGULARISATION = (0.1, 1.0)  # scikit-learn's C
DEV_WEIGHTS = (1.0, 10.0)  # a dev question's rows weigh this many SQuAD ones
# The service's default; read once, as this runs millions of times while choosing.
_MAX_SENTENCES: int = Settings.model_fields["max_answer_sentences"].default
THRESHOLDS = tuple(round(x, 3) for x in np.arange(0.05, 0.951, 0.025))
COMPANION_RATIOS = (0.5, 0.7, 0.9, 1.01)  # 1.01: the best span alone


@dataclass
class AskedQuestion:
    """One training question as the service sees it: its candidate spans' features and labels."""

    id: str
    group: str  # article or document: the unit cross-validation holds out
    source: str  # "squad" or "dev"
    question: str
    answerable: bool
    gold: tuple[str, ...]  # answers (SQuAD) or fact variants (dev) that a right quote holds
    texts: list[str]  # each candidate span's text
    vectors: np.ndarray  # each candidate span's unit vector (duplicates are quoted once)
    rows: np.ndarray  # features, one row per candidate
    labels: np.ndarray  # 1 where the span holds a gold answer
    formula: Selection | None  # the earlier scorer's choice, for side-by-side figures
    passages: tuple[str, ...]  # texts of the retrieved passages
    span_passages: np.ndarray  # each candidate's passage, as an index into ``passages``
    select_ms: float  # retrieval + the learned step's features, with no sentence vector cached
    formula_ms: float | None  # retrieval + the formula step, with no sentence vector cached
    # The same question over ``CLOSEST_POOL`` passages, where an unsure step's closest passages are
    # chosen; only when asked for (``cited bench answers``).
    wide: AskedQuestion | None = None


def fitting_questions(questions: Path, corpus: Path) -> list[Question]:
    """The dev questions a model is fitted on, with the folder of documents they are about: never the
    golden set, which only reports."""
    if questions.resolve() == GOLDEN_QUESTIONS.resolve():
        raise InvalidInputError(
            "golden_set", "the golden set only reports; fit on evals/data/dev_questions.jsonl"
        )
    if not questions.is_file():
        raise InvalidInputError(
            "missing_input",
            f"{questions} is not a file; give the dev questions (evals/data/dev_questions.jsonl)",
        )
    if not corpus.is_dir():
        raise InvalidInputError(
            "missing_input", f"{corpus} is not a folder; give the documents the questions are about"
        )
    return load(questions)


def holds(text: str, gold: tuple[str, ...], source: str) -> bool:
    if source == "squad":
        return contains_answer(text, gold)
    folded = text.casefold()
    return any(v.casefold() in folded for v in gold)


def ingest_into(folder: Path, corpus: Path, files: Sequence[Path], settings: Settings) -> AnswerService:
    """A fresh store under ``folder`` holding ``files`` of ``corpus``, and a service over it."""
    store_settings = settings.model_copy(
        update={"data_dir": folder, "corpus_dir": corpus, "answer_step": "formula"}
    )
    embedder = configured_embedder(store_settings)
    report = Ingestor(store_settings, embedder, open_store(store_settings)).sync(
        [FileSource(f, corpus) for f in files]
    )
    if not report.ok:
        raise RuntimeError(f"ingest of {corpus} failed: {report.failed}")
    service = AnswerService.from_settings(store_settings, embedder)
    service.warm_up()
    return service


def ask(
    service: AnswerService,
    id: str,
    group: str,
    source: str,
    question: str,
    answerable: bool,
    gold: tuple[str, ...],
    with_formula: bool = False,
    wide: bool = False,
) -> AskedQuestion:
    """``with_formula``: the earlier scorer chooses too (from the same retrieval), with its own
    latency; it embeds every candidate sentence, so it is left out of training. ``wide``: the
    question over ``CLOSEST_POOL`` passages as well (``AskedQuestion.wide``)."""
    learned = service.learned
    service.embedder.forget()
    started = time.perf_counter()
    retrieval = service.retriever.retrieve(question, service.settings.top_k)
    retrieved = time.perf_counter()
    vector = service.query_vector(question, retrieval)
    candidates, rows = learned.features(question, vector, retrieval.passages)
    select_ms = (time.perf_counter() - started) * 1000
    formula, formula_ms = None, None
    if with_formula:
        service.embedder.forget()
        formula_started = time.perf_counter()
        formula = service.formula.select(question, vector, retrieval.passages)
        formula_ms = (time.perf_counter() - formula_started + retrieved - started) * 1000
    widened = None
    if wide:
        pool = service.retriever.retrieve(question, max(service.settings.top_k, CLOSEST_POOL))
        wide_candidates, wide_rows = learned.features(question, vector, pool.passages)
        widened = _asked(
            (id, group, source, question, answerable, gold), wide_candidates, wide_rows, pool.passages
        )
    return _asked(
        (id, group, source, question, answerable, gold), candidates, rows, retrieval.passages,
        formula, select_ms, formula_ms, widened,
    )  # fmt: skip


def _asked(
    about: tuple[str, str, str, str, bool, tuple[str, ...]],
    candidates: Sequence[CandidateSpan],
    rows: np.ndarray,
    passages: Sequence[ScoredChunk],
    formula: Selection | None = None,
    select_ms: float = 0.0,
    formula_ms: float | None = None,
    wide: AskedQuestion | None = None,
) -> AskedQuestion:
    """One question's candidates as training and scoring read them; ``about``: its id, group,
    source, text, whether it is answerable, and its gold answers."""
    id, group, source, question, answerable, gold = about
    texts = [c.span.text for c in candidates]
    return AskedQuestion(
        id=id,
        group=group,
        source=source,
        question=question,
        answerable=answerable,
        gold=gold,
        texts=texts,
        vectors=np.asarray([c.vector for c in candidates]).reshape(len(candidates), -1),
        rows=rows,
        labels=np.array([answerable and holds(t, gold, source) for t in texts], dtype=np.int8),
        formula=formula,
        passages=tuple(p.chunk.text for p in passages),
        span_passages=np.array([c.rank - 1 for c in candidates], dtype=np.int64),
        select_ms=select_ms,
        formula_ms=formula_ms,
        wide=wide,
    )


def ask_squad(
    service: AnswerService, questions: Sequence[SquadQuestion], with_formula: bool = False, wide: bool = False
) -> list[AskedQuestion]:
    return [
        ask(service, q.id, q.article, "squad", q.question, q.answerable, q.answers, with_formula, wide)
        for q in questions
    ]


def ask_dev(service: AnswerService, questions: Sequence[Question]) -> list[AskedQuestion]:
    asked = []
    for q in questions:
        gold = tuple(v for fact in q.facts for v in fact)
        # An unanswerable question belongs to no document; it is held out with the first one.
        group = q.documents[0] if q.documents else "dev-unanswerable"
        asked.append(ask(service, q.id, group, "dev", q.question, q.answerable, gold))
    return asked


def collect(
    settings: Settings,
    squad: Path,
    squad_questions: Sequence[SquadQuestion],
    corpus: Path,
    dev_questions: Sequence[Question],
) -> list[AskedQuestion]:
    """Every training question asked through the real ingest and service (two temporary stores)."""
    asked: list[AskedQuestion] = []
    with tempfile.TemporaryDirectory(prefix="cited-train-") as folder:
        articles = sorted({q.article for q in squad_questions})
        if articles:
            service = ingest_into(
                Path(folder) / "squad",
                squad / "corpus",
                [squad / "corpus" / f"{a}.txt" for a in articles],
                settings,
            )
            asked += ask_squad(service, squad_questions)
        if dev_questions:
            files = sorted(p for p in corpus.iterdir() if p.is_file())
            service = ingest_into(Path(folder) / "dev", corpus, files, settings)
            asked += ask_dev(service, dev_questions)
    return asked


# Fitting
def _fit_logistic(asked: Sequence[AskedQuestion], c: float, dev_weight: float) -> AnswerModel:
    from sklearn.linear_model import LogisticRegression

    rows = np.vstack([a.rows for a in asked if len(a.rows)])
    labels = np.concatenate([a.labels for a in asked if len(a.rows)])
    weights = np.concatenate(
        [np.full(len(a.rows), dev_weight if a.source == "dev" else 1.0) for a in asked if len(a.rows)]
    )
    return AnswerModel(
        features=FEATURES,
        **standardised_logistic(rows, labels, LogisticRegression(C=c, max_iter=2000), sample_weight=weights),
        threshold=0.5,
        companion_ratio=1.01,
    )


def standardised_logistic(
    rows: np.ndarray, labels: np.ndarray, regression: Any, **fit: Any
) -> dict[str, Any]:
    """``regression`` (scikit-learn's LogisticRegression) fitted on standardised ``rows``: the
    fields a shipped model keeps to score a row (``span_model.logistic``)."""
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(rows)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    fitted = regression.fit((rows - scaler.mean_) / scale, labels, **fit)
    return {
        "mean": tuple(float(x) for x in scaler.mean_),
        "scale": tuple(float(x) for x in scale),
        "coefficients": tuple(float(x) for x in fitted.coef_[0]),
        "intercept": float(fitted.intercept_[0]),
    }


def right(question: AskedQuestion, probabilities: np.ndarray, threshold: float, ratio: float) -> bool:
    """Whether the learned step gets ``question`` right at this cut and companion ratio."""
    chosen = quoted(question, probabilities, ratio)
    answered = bool(chosen) and float(probabilities.max()) >= threshold
    if not question.answerable:
        return not answered
    return answered and holds(" ".join(question.texts[i] for i in chosen), question.gold, question.source)


def quoted(question: AskedQuestion, probabilities: np.ndarray, ratio: float) -> list[int]:
    """The spans ``learned_selection.choose`` would quote (by index), whether or not it answers."""
    return quoted_spans(question.vectors, probabilities, ratio, _MAX_SENTENCES)


def accuracy(
    asked: Sequence[AskedQuestion],
    probabilities: Sequence[np.ndarray],
    threshold: float,
    ratio: float,
    calibrate_on: str,
) -> float:
    """Share of the ``calibrate_on`` source's questions answered right (or rightly abstained on);
    of every question when there are none of that source (a one-article slice)."""
    pairs = list(zip(asked, probabilities, strict=True))
    chosen = [(q, p) for q, p in pairs if q.source == calibrate_on] or pairs
    return statistics.fmean(right(q, p, threshold, ratio) for q, p in chosen)


def predict(model: AnswerModel, question: AskedQuestion) -> np.ndarray:
    """Span probabilities as the service uses them (with the "how many" rule applied)."""
    kind = expected_answer_type(question.question)
    return typed(kind, question.rows, model.probabilities(question.rows))


def out_of_fold(asked: Sequence[AskedQuestion], c: float, dev_weight: float, folds: int) -> list[np.ndarray]:
    """Each question's span probabilities from a model fitted without its group."""
    from sklearn.model_selection import GroupKFold

    groups = [a.group for a in asked]
    probabilities: list[np.ndarray] = [np.zeros(0)] * len(asked)
    splitter = GroupKFold(n_splits=min(folds, len(set(groups))))
    for train, test in splitter.split(np.zeros(len(asked)), groups=groups):
        model = _fit_logistic([asked[i] for i in train], c, dev_weight)
        for i in test:
            probabilities[i] = predict(model, asked[i])
    return probabilities


@dataclass(frozen=True)
class Choice:
    c: float
    dev_weight: float
    threshold: float
    companion_ratio: float
    cv_accuracy: float


def choose(asked: Sequence[AskedQuestion], calibrate_on: str, folds: int = 5) -> Choice:
    """The settings with the best grouped cross-validated accuracy on the ``calibrate_on`` source's
    questions (every source's questions fit the span model in each fold)."""
    best: Choice | None = None
    for c in REGULARISATION:
        for dev_weight in DEV_WEIGHTS:
            probabilities = out_of_fold(asked, c, dev_weight, folds)
            for ratio in COMPANION_RATIOS:
                for threshold in THRESHOLDS:
                    score = accuracy(asked, probabilities, threshold, ratio, calibrate_on)
                    if best is None or score > best.cv_accuracy + 1e-9:
                        best = Choice(c, dev_weight, threshold, ratio, round(score, 4))
    assert best is not None
    return best


def fit(asked: Sequence[AskedQuestion], calibrate_on: str = "dev", folds: int = 5) -> AnswerModel:
    """The model for ``asked``: settings chosen by grouped cross-validation, then fitted on all.

    The span model learns from every source; the abstention cut is calibrated on the questions
    of one (``calibrate_on``): how often questions have no answer, and how close they come to
    the text, is a property of a corpus and its askers (over half of SQuAD 2.0's questions are
    written to look answerable), so the cut is set where the model will serve. The shipped model is
    calibrated on the dev questions over ``corpus/``; ``cited bench answers`` calibrates each
    held-out SQuAD article's model on the other articles.
    """
    choice = choose(asked, calibrate_on, folds)
    return replace(
        _fit_logistic(asked, choice.c, choice.dev_weight),
        threshold=choice.threshold,
        companion_ratio=choice.companion_ratio,
        about={
            "fitted_by": "cited train answers",
            "questions": {s: sum(a.source == s for a in asked) for s in sorted({a.source for a in asked})},
            "groups": sorted({a.group for a in asked}),
            "spans": int(sum(len(a.rows) for a in asked)),
            "regularisation_C": choice.c,
            "dev_weight": choice.dev_weight,
            "calibrated_on": calibrate_on,
            "grouped_cv_accuracy": choice.cv_accuracy,
        },
    )
