"""Score fusion on hand-made lists with known results."""

import pytest

from service.answering.fusion import fuse, normalise


def test_normalise_maps_the_window_to_0_1_and_clips_below() -> None:
    assert normalise([10.0, 8.0, 6.0, 2.0], window=3) == pytest.approx([1.0, 0.5, 0.0, 0.0])
    assert normalise([0.9, 0.6, 0.3], window=100) == pytest.approx([1.0, 0.5, 0.0])
    assert normalise([], window=10) == []
    assert normalise([3.0, 3.0], window=10) == [1.0, 1.0]  # no spread: all equally best


def test_fusion_adds_weighted_scores_and_missing_lists_add_nothing() -> None:
    lists = {
        "bm25": [("a", 12.0), ("b", 6.0), ("c", 0.0)],  # normalised: a 1, b 0.5, c 0
        "dense": [("b", 0.8), ("c", 0.6), ("d", 0.4)],  # normalised: b 1, c 0.5, d 0
    }
    fused = dict(fuse(lists, {"bm25": 1.0, "dense": 0.5}, window=3))
    assert fused == pytest.approx({"a": 1.0, "b": 0.5 + 0.5, "c": 0.25, "d": 0.0})


def test_fusion_order_and_zero_weight() -> None:
    lists = {"bm25": [("a", 3.0), ("b", 1.0)], "dense": [("b", 0.9), ("a", 0.1)]}
    assert [i for i, _ in fuse(lists, {"bm25": 1.0, "dense": 2.0}, window=2)] == ["b", "a"]
    assert [i for i, _ in fuse(lists, {"bm25": 1.0, "dense": 0.0}, window=2)] == ["a", "b"]
    assert fuse({"bm25": []}, {"bm25": 1.0}, window=10) == []


def test_the_top_does_not_depend_on_how_many_candidates_were_fetched() -> None:
    short = {"bm25": [("a", 9.0), ("b", 5.0), ("c", 1.0)], "dense": [("c", 0.9), ("a", 0.7), ("b", 0.5)]}
    longer = {k: v + [(f"x{k}{i}", -float(i)) for i in range(50)] for k, v in short.items()}
    top = [i for i, _ in fuse(short, {"bm25": 1, "dense": 1}, window=3)]
    assert [i for i, _ in fuse(longer, {"bm25": 1, "dense": 1}, window=3)][:3] == top
