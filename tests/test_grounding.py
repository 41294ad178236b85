"""ALCE citation recall and precision, and groundedness, on hand-made answers with known values.

The support relation of each case is part of the case: ``TableJudge`` answers from the pairs the case
declares as supported, so these tests check the metric definitions and nothing else. The real judge
is checked on its own labelled set in test_judge.py.
"""

from collections.abc import Sequence

import pytest

from evals.grounding import Statement, judge_answer, statements


class TableJudge:
    name = "table"
    description = "a hand-made support table"

    def __init__(self, supported: set[tuple[str, frozenset[str]]]) -> None:
        self.supported = supported

    def supports(self, claim: str, passages: Sequence[str]) -> bool:
        return (claim, frozenset(passages)) in self.supported


def test_statements_split_at_marker_runs_and_keep_an_unmarked_tail() -> None:
    assert statements("Alpha is first. [1] Beta is second. [2][3] And a tail") == [
        Statement("Alpha is first.", (1,)),
        Statement("Beta is second.", (2, 3)),
        Statement("And a tail", ()),
    ]
    assert statements("Only one. [2] [2] [1]") == [Statement("Only one.", (2, 1))]
    assert statements("No markers at all.") == [Statement("No markers at all.", ())]
    assert statements("") == []


def test_one_supporting_citation_gives_full_recall_and_precision() -> None:
    judge = TableJudge({("Sales rose.", frozenset({"P1"}))})
    verdict = judge_answer("Sales rose. [1]", {1: "P1"}, {1: "P1"}, judge)
    assert verdict.citation_recall == 1.0
    assert verdict.citation_precision == 1.0
    assert verdict.grounded == (1, 1)


def test_a_statement_without_citation_counts_against_recall_only() -> None:
    judge = TableJudge({("Sales rose.", frozenset({"P1"}))})
    verdict = judge_answer("Sales rose. [1] Costs fell.", {1: "P1"}, {1: "P1"}, judge)
    assert verdict.citation_recall == 0.5
    assert verdict.citation_precision == 1.0  # the one citation there is was needed
    assert verdict.grounded == (1, 2)


def test_an_unneeded_citation_lowers_precision_but_not_recall() -> None:
    # P1 alone supports the claim; P2 does not, and P1 without P2 still does: P2 is not needed.
    claim = "Sales rose."
    judge = TableJudge({(claim, frozenset({"P1"})), (claim, frozenset({"P1", "P2"}))})
    verdict = judge_answer(f"{claim} [1][2]", {1: "P1", 2: "P2"}, {1: "P1", 2: "P2"}, judge)
    assert verdict.citation_recall == 1.0
    assert verdict.citation_precision == 0.5
    assert verdict.statements[0].needed == (True, False)


def test_two_citations_that_each_support_alone_are_both_counted_as_needed() -> None:
    # Redundant, yet each is a valid source on its own: ALCE's condition A keeps both precise.
    claim = "Sales rose."
    judge = TableJudge(
        {(claim, frozenset({"P1"})), (claim, frozenset({"P2"})), (claim, frozenset({"P1", "P2"}))}
    )
    verdict = judge_answer(f"{claim} [1][2]", {1: "P1", 2: "P2"}, {1: "P1", 2: "P2"}, judge)
    assert verdict.citation_precision == 1.0


def test_two_citations_needed_together_are_both_precise() -> None:
    claim = "Sales rose in 2023 in Lyon."
    judge = TableJudge({(claim, frozenset({"P1", "P2"}))})
    verdict = judge_answer(f"{claim} [1][2]", {1: "P1", 2: "P2"}, {1: "P1", 2: "P2"}, judge)
    assert verdict.citation_recall == 1.0
    assert verdict.citation_precision == 1.0


def test_citations_of_an_unsupported_statement_are_all_imprecise() -> None:
    judge = TableJudge(set())
    verdict = judge_answer("Sales rose. [1][2]", {1: "P1", 2: "P2"}, {1: "P1", 2: "P2"}, judge)
    assert verdict.citation_recall == 0.0
    assert verdict.citation_precision == 0.0


def test_a_marker_naming_no_citation_is_an_unsupported_statement() -> None:
    judge = TableJudge({("Sales rose.", frozenset({"P1"}))})
    verdict = judge_answer("Sales rose. [1][7]", {1: "P1"}, {1: "P1"}, judge)
    assert verdict.statements[0].unknown == (7,)
    assert verdict.citation_recall == 0.0
    assert verdict.citation_precision == 0.0


def test_groundedness_reads_the_quote_not_the_whole_passage() -> None:
    # The passage supports the claim but the highlighted quote is another sentence of it.
    claim = "Sales rose."
    judge = TableJudge({(claim, frozenset({"Costs fell. Sales rose."}))})
    verdict = judge_answer(f"{claim} [1]", {1: "Costs fell. Sales rose."}, {1: "Costs fell."}, judge)
    assert verdict.citation_recall == 1.0
    assert verdict.grounded == (0, 1)


def test_per_answer_means_over_several_statements() -> None:
    judge = TableJudge({("A one.", frozenset({"P1"})), ("B two.", frozenset({"P2"}))})
    verdict = judge_answer(
        "A one. [1] B two. [1] C three. [2]", {1: "P1", 2: "P2"}, {1: "P1", 2: "P2"}, judge
    )
    assert verdict.citation_recall == pytest.approx(1 / 3)
    assert verdict.citation_precision == pytest.approx(1 / 3)
