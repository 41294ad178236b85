"""Metric functions of the retrieval benchmark and of the eval suite.

Retrieval on a BEIR dataset, with BEIR's definitions, computed by pytrec_eval (trec_eval's
implementation):

- **nDCG@10**: DCG of the first 10 results, gain = the graded relevance in the qrels (linear, as
  trec_eval and BEIR use it), discount = 1/log2(rank + 1); divided by the DCG of the ideal order.
- **Recall@100**: share of a query's relevant documents found in its first 100 results.
- **MRR@10**: 1/rank of the first relevant document within the first 10 results, 0 when none is.

Each is the mean over every query of the qrels: a query the system returned nothing for counts as
0 (pytrec_eval alone would skip it and flatter the mean).

Per question of the golden set (``cited eval``), means taken by ``evals/suite.py``:

- **hit@k**: 1 when one of the first k retrieved passages comes from an expected document.
- **reciprocal rank**: 1/rank of the first passage from an expected document, 0 when none is
  retrieved (its mean is MRR, over the ``top_k`` passages retrieved).
- **evidence hit@k**: 1 when every evidence string of the question (one per passage the answer
  needs) lies in one of the first k retrieved passages: the passage level, where hit@k is the
  document level.
- **fact recall**: share of the expected facts present in the answer (any accepted variant,
  case-insensitive); an abstention on an answerable question finds none.
- **abstention precision / recall**, with "unanswerable" as the positive class: of the questions
  Cited abstained on, the share that were unanswerable; of the unanswerable questions, the share it
  abstained on. With no abstention at all, precision is 0 (scikit-learn's ``zero_division=0``).
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Mapping, Sequence

Qrels = Mapping[str, Mapping[str, int]]  # query id -> document id -> relevance grade
Ranking = Mapping[str, Sequence[str]]  # query id -> document ids, best first


def as_run(rankings: Ranking) -> dict[str, dict[str, float]]:
    """pytrec_eval's run format with strictly decreasing scores, so ties cannot reorder a ranking."""
    return {q: {doc: float(len(docs) - i) for i, doc in enumerate(docs)} for q, docs in rankings.items()}


def evaluate(qrels: Qrels, rankings: Ranking) -> dict[str, float]:
    import pytrec_eval

    judged = {q: dict(rels) for q, rels in qrels.items() if any(r > 0 for r in rels.values())}
    run = as_run({q: rankings.get(q, []) for q in judged})
    present = {q: docs for q, docs in run.items() if docs}
    per_query: dict[str, dict[str, float]] = {}
    if present:
        evaluator = pytrec_eval.RelevanceEvaluator(
            {q: judged[q] for q in present}, {"ndcg_cut.10", "recall.100"}
        )
        per_query = evaluator.evaluate(present)
        top10 = {q: {d: s for d, s in docs.items() if s > len(docs) - 10} for q, docs in present.items()}
        for q, scores in (
            pytrec_eval.RelevanceEvaluator({q: judged[q] for q in present}, {"recip_rank"})
            .evaluate(top10)
            .items()
        ):
            per_query[q]["recip_rank"] = scores["recip_rank"]

    def mean(measure: str) -> float:
        return statistics.fmean(per_query.get(q, {}).get(measure, 0.0) for q in judged) if judged else 0.0

    return {
        "ndcg@10": mean("ndcg_cut_10"),
        "recall@100": mean("recall_100"),
        "mrr@10": mean("recip_rank"),
        "queries": float(len(judged)),
    }


def percentile(values: Sequence[float], q: int) -> float:
    """The q-th percentile (inclusive method), for latency figures."""
    if len(values) < 2:
        return float(values[0]) if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def hit_at(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    return float(any(doc in relevant for doc in ranked[:k]))


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str]) -> float:
    return next((1 / rank for rank, doc in enumerate(ranked, 1) if doc in relevant), 0.0)


def evidence_hit_at(passages: Sequence[str], evidence: Sequence[str], k: int) -> float:
    return float(all(any(e in p for p in passages[:k]) for e in evidence)) if evidence else 0.0


def abstention_scores(abstained: Sequence[bool], unanswerable: Sequence[bool]) -> tuple[float, float]:
    """(precision, recall) of abstaining, with unanswerable questions as the positive class."""
    true_pos = sum(a and u for a, u in zip(abstained, unanswerable, strict=True))
    return (
        true_pos / sum(abstained) if any(abstained) else 0.0,
        true_pos / sum(unanswerable) if any(unanswerable) else 0.0,
    )
