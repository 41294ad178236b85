"""The metric functions against values computed by hand."""

import math

import pytest

from evals.metrics import evaluate


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
