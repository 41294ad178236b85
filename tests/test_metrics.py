"""The metric functions against values computed by hand."""

import math

import pytest

from evals.metrics import (
    abstention_scores,
    evaluate,
    evidence_hit_at,
    hit_at,
    percentile,
    reciprocal_rank,
)


def test_binary_relevance_by_hand() -> None:
    qrels = {"q": {"d1": 1, "d2": 1}}
    # Relevant documents at ranks 2 and 4.
    got = evaluate(qrels, {"q": ["d3", "d1", "d4", "d2"]})
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3)
    assert got["ndcg@10"] == pytest.approx(dcg / ideal)  # 0.6509
    assert got["mrr@10"] == pytest.approx(0.5)
    assert got["recall@100"] == pytest.approx(1.0)


def test_graded_relevance_uses_linear_gain() -> None:
    qrels = {"q": {"d1": 2, "d2": 1}}
    got = evaluate(qrels, {"q": ["d2", "d1"]})
    dcg = 1 / math.log2(2) + 2 / math.log2(3)
    ideal = 2 / math.log2(2) + 1 / math.log2(3)
    assert got["ndcg@10"] == pytest.approx(dcg / ideal)  # 0.8597


def test_cut_offs() -> None:
    qrels = {"q": {"hit": 1, "late": 1}}
    ranking = [f"x{i}" for i in range(10)] + ["hit"] + [f"y{i}" for i in range(100)] + ["late"]
    got = evaluate(qrels, {"q": ranking})
    assert got["ndcg@10"] == 0.0 and got["mrr@10"] == 0.0  # rank 11 is outside both cut-offs
    assert got["recall@100"] == pytest.approx(0.5)  # rank 11 counts, rank 112 does not


def test_queries_without_results_count_as_zero() -> None:
    qrels = {"found": {"d1": 1}, "missed": {"d2": 1}, "empty": {"d3": 1}}
    got = evaluate(qrels, {"found": ["d1"], "empty": []})
    assert got["ndcg@10"] == pytest.approx(1 / 3)
    assert got["mrr@10"] == pytest.approx(1 / 3)
    assert got["recall@100"] == pytest.approx(1 / 3)
    assert got["queries"] == 3


def test_mean_over_queries() -> None:
    qrels = {"a": {"d1": 1}, "b": {"d2": 1}}
    got = evaluate(qrels, {"a": ["d1"], "b": ["x", "x2", "d2"]})
    assert got["mrr@10"] == pytest.approx((1 + 1 / 3) / 2)
    assert got["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4)) / 2)


# --- the eval suite's per-question metrics ---------------------------------------------------------


def test_hit_at_k_and_reciprocal_rank_by_hand() -> None:
    ranked = ["b.txt", "a.txt", "b.txt", "c.txt"]
    assert hit_at(ranked, {"a.txt"}, 1) == 0.0
    assert hit_at(ranked, {"a.txt"}, 2) == 1.0
    assert reciprocal_rank(ranked, {"a.txt"}) == 0.5
    assert reciprocal_rank(ranked, {"c.txt", "a.txt"}) == 0.5  # the first relevant one counts
    assert reciprocal_rank(ranked, {"z.txt"}) == 0.0
    assert hit_at([], {"a.txt"}, 5) == 0.0


def test_hit_at_k_and_reciprocal_rank_agree_with_pytrec_eval() -> None:
    import random

    import pytrec_eval

    rng = random.Random(7)
    docs = [f"d{i}" for i in range(12)]
    for _ in range(50):
        ranked = rng.sample(docs, 8)
        relevant = set(rng.sample(docs, rng.randint(1, 3)))
        run = {"q": {d: float(len(ranked) - i) for i, d in enumerate(ranked)}}
        got = pytrec_eval.RelevanceEvaluator({"q": dict.fromkeys(relevant, 1)}, {"recip_rank", "success"})
        measured = got.evaluate(run)["q"]
        assert reciprocal_rank(ranked, relevant) == pytest.approx(measured["recip_rank"])
        assert hit_at(ranked, relevant, 5) == measured["success_5"]
        assert hit_at(ranked, relevant, 1) == measured["success_1"]


def test_evidence_hit_needs_every_evidence_string_within_k() -> None:
    passages = ["alpha beta", "gamma delta", "epsilon"]
    assert evidence_hit_at(passages, ["beta"], 1) == 1.0
    assert evidence_hit_at(passages, ["beta", "delta"], 1) == 0.0  # the second passage is needed
    assert evidence_hit_at(passages, ["beta", "delta"], 2) == 1.0
    assert evidence_hit_at(passages, ["zeta"], 3) == 0.0
    assert evidence_hit_at(passages, [], 3) == 0.0  # nothing to find is not a hit


def test_abstention_precision_and_recall_by_hand() -> None:
    # Four unanswerable questions, two answerable. Abstained on three unanswerable and one answerable.
    abstained = [True, True, True, False, True, False]
    unanswerable = [True, True, True, True, False, False]
    precision, recall = abstention_scores(abstained, unanswerable)
    assert precision == pytest.approx(3 / 4)
    assert recall == pytest.approx(3 / 4)
    assert abstention_scores([False, False], [True, False]) == (0.0, 0.0)


def test_percentile_inclusive() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([10.0], 95) == 10.0
    assert percentile([], 95) == 0.0
