"""Retrieval metrics with BEIR's definitions, computed by pytrec_eval (trec_eval's implementation).

- **nDCG@10**: DCG of the first 10 results, gain = the graded relevance in the qrels (linear, as
  trec_eval and BEIR use it), discount = 1/log2(rank + 1); divided by the DCG of the ideal order.
- **Recall@100**: share of a query's relevant documents found in its first 100 results.
- **MRR@10**: 1/rank of the first relevant document within the first 10 results, 0 when none is.

Each is the mean over every query of the qrels: a query the system returned nothing for counts as
0 (pytrec_eval alone would skip it and flatter the mean).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

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
