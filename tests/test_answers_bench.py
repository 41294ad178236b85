"""What a question asks for, SQuAD's answer scoring, and `cited bench answers` on a slice of the
shared SQuAD 2.0 articles (read in place)."""

import json
from pathlib import Path

import pytest

from cited.text.features import ANSWER_TYPES, expected_answer_type
from evals.squad import contains_answer, normalise
from tests.conftest import ROOT, invoke_cited

SQUAD2 = ROOT.parent / "shared" / "benchmarks" / "squad2-dev"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many Alibaba employees work in Hubei?", "number"),
        (
            "How many days after the lockdown, and when, did the warehouse reopen?",
            "number",
        ),  # first rule wins
        ("What percentage of staff worked from home?", "number"),
        ("When was the emergency working group set up?", "date"),
        ("What year did the oil crisis start?", "date"),
        ("Who led Alibaba in 2023?", "person"),
        ("Which company developed DingTalk?", "person"),
        ("In what country is Normandy located?", "place"),
        ("Where did the Normans settle?", "place"),
        ("What are the three Cs?", "list"),
        ("Which three values did Wu Yongming ask employees to refocus on?", "list"),
        ("Why did the HR team set up an online karaoke?", "reason"),
        ("What is DingTalk?", "definition"),
        ("Alibaba AI model name?", "other"),
    ],
)
def test_the_expected_answer_type_follows_the_question(question: str, kind: str) -> None:
    assert kind in ANSWER_TYPES
    assert expected_answer_type(question) == kind


def test_squad_scoring_normalises_as_the_dataset_says() -> None:
    assert normalise("The  Normans, (of France)!") == "normans of france"
    assert contains_answer("They were in the 10th and 11th centuries.", ("10th and 11th centuries",))
    assert contains_answer("Normandy is a region in France.", ("France", "a region"))
    # A gold answer must stand as whole words: "France" is not in "Frances".
    assert not contains_answer("Frances is not a country.", ("France",))
    assert not contains_answer("anything", ("",))


@pytest.mark.slow
def test_the_answers_bench_compares_the_answer_steps_on_a_slice(tmp_path: Path) -> None:
    run = invoke_cited(
        "bench", "answers", "--dataset", str(SQUAD2), "--article", "1973_oil_crisis",
        "--max-questions", "10", "--ingest-runs", "1", "--reports", str(tmp_path),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "answers-squad2.json").read_text(encoding="utf-8"))
    assert report["questions"] == 10 and report["articles"] == ["1973_oil_crisis"]
    systems = report["systems"]
    assert set(systems) == {"formula", "learned", "always_answer", "always_abstain"}
    every = {name: rows["all"] for name, rows in systems.items()}
    assert every["always_abstain"]["unanswerable_abstained"] == 1.0
    assert every["always_abstain"]["answered_with_gold_in_quote"] == 0.0
    assert every["always_answer"]["unanswerable_abstained"] == 0.0
    # The learned step answers a subset of what always answering does, from the same spans.
    assert (
        every["learned"]["answered_with_gold_in_quote"]
        <= every["always_answer"]["answered_with_gold_in_quote"]
    )
    assert every["always_answer"]["answered_with_gold_in_quote"] > 0  # retrieval does find answers
    # Closest passages are shown only by the learned step, and only when it does not answer; what
    # it quotes right is useful, and so are the closest passages that hold the gold answer.
    assert every["learned"]["answerable_useful"] >= every["learned"]["answered_with_gold_in_quote"]
    assert every["formula"]["closest"] == 0.0 and every["always_abstain"]["answerable_useful"] == 0.0
    assert report["latency_ms"]["learned"]["median"] > 0 and report["latency_ms"]["formula"]["median"] > 0
    overhead = report["ingest_with_and_without_span_vectors"]
    assert overhead["runs"] == 1 and overhead["with_span_vectors_s"] > 0 and overhead["without_s"] > 0
    markdown = (tmp_path / "answers-squad2.md").read_text(encoding="utf-8")
    assert "| learned | all | 10 |" in markdown and "out of sample" in markdown
    assert "useful (quote or closest passages)" in markdown


def test_the_answers_bench_refuses_an_unknown_article_and_a_folder_that_is_not_squad(tmp_path: Path) -> None:
    unknown = invoke_cited("bench", "answers", "--dataset", str(SQUAD2), "--article", "Atlantis")
    assert unknown.returncode == 2 and "unknown article ['Atlantis']" in unknown.stderr
    empty = invoke_cited("bench", "answers", "--dataset", str(tmp_path))
    assert empty.returncode == 2 and "is not a SQuAD 2.0 slice" in empty.stderr


def test_the_history_bench_times_ask_with_and_without_history(tmp_path: Path) -> None:
    run = invoke_cited(
        "bench", "history", "--dataset", str(SQUAD2), "--max-questions", "6", "--reports", str(tmp_path)
    )
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "ask-history-squad2.json").read_text(encoding="utf-8"))
    assert report["questions"] == 6 and report["asked_with_history"] == 5  # the first has no earlier turn
    assert 0 <= report["contextualised"] <= 5
    for variant in ("alone", "with_history"):
        assert report["http_ms"][variant]["median"] > 0
    assert report["median_ratio_with_to_without"] > 0 and report["cpus"] >= 1
    assert "the sentence-vector cache emptied" in (tmp_path / "ask-history-squad2.md").read_text(
        encoding="utf-8"
    )
