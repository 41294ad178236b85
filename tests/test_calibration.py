import pytest

from evals.abstention import Scored, choose_threshold, leave_one_out, outcome
from evals.questions import Question


def scored(*pairs: tuple[float, bool]) -> list[Scored]:
    return [Scored(f"q{i}", "?", answerable, score) for i, (score, answerable) in enumerate(pairs)]


def test_separable_scores_get_a_threshold_between_the_groups() -> None:
    items = scored((0.2, False), (0.3, False), (0.6, True), (0.7, True))
    chosen = choose_threshold(items)
    assert chosen.threshold == pytest.approx(0.45)  # halfway between 0.3 and 0.6
    assert chosen.balanced_accuracy == 1.0


def test_overlapping_scores_balance_both_kinds_of_error() -> None:
    # Answerable: 0.5, 0.6, 0.7, 0.8. Unanswerable: 0.1, 0.2, 0.55, 0.65.
    items = scored((0.5, True), (0.6, True), (0.7, True), (0.8, True),
                   (0.1, False), (0.2, False), (0.55, False), (0.65, False))  # fmt: skip
    at_035 = outcome(items, 0.35)  # answers all 4 answerable, abstains on 2 of 4 unanswerable
    assert (at_035.answered_answerable, at_035.abstained_unanswerable) == (1.0, 0.5)
    at_0675 = outcome(items, 0.675)  # answers 2 of 4, abstains on all 4
    assert (at_0675.answered_answerable, at_0675.abstained_unanswerable) == (0.5, 1.0)
    chosen = choose_threshold(items)
    assert chosen.balanced_accuracy == 0.75
    assert chosen.threshold == pytest.approx(0.35)  # ties go to the lower threshold: answering is more useful


def test_leave_one_out_is_below_in_sample_when_a_point_decides_the_threshold() -> None:
    items = scored((0.2, False), (0.3, False), (0.6, True), (0.7, True))
    assert leave_one_out(items) == 1.0
    lonely = scored((0.2, False), (0.65, False), (0.6, True), (0.7, True))
    assert leave_one_out(lonely) < choose_threshold(lonely).balanced_accuracy


def test_fact_recall_accepts_any_variant() -> None:
    q = Question("x", "?", True, ["a.txt"], [["January 23rd", "Jan 23"], ["DingTalk"]])
    assert q.facts_found("They met on jan 23 online.") == 0.5
    assert q.facts_found("On January 23rd, via DingTalk.") == 1.0
