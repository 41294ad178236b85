"""Follow-up questions and questions of several parts: which are read with context, and how."""

import pytest

from cited.text.features import asked_item
from service.answering.ask_schema import EarlierTurn
from service.answering.follow_up import (
    answer_names,
    completed_ellipsis,
    faithful_rewrite,
    leans_on_history,
    searched_question,
)
from service.answering.question_parts import question_parts

WORKING_GROUP = EarlierTurn(question="Who set up the emergency working group?")


@pytest.mark.parametrize(
    "question",
    [
        "When did they set it up?",  # a pronoun for people
        "And in 2023?",  # an ellipsis
        "What were its benefits?",  # a pronoun for a thing, no name to stand for
        "And the second?",
        "What about the third one?",
        "Who makes it?",
        "Why was Wu's message aimed at them?",  # "Wu's" is not who "them" are
    ],
)
def test_a_question_that_refers_back_leans_on_the_history(question: str) -> None:
    assert leans_on_history(question)


@pytest.mark.parametrize(
    "question",
    [
        "Which platform hosted the online karaoke?",
        "What did employees have to show when they came to work?",  # "they" are the employees
        "What did Jack Ma do at the annual party?",
        "Who are the Aliren?",  # short, but it names what it asks about
        "What must come before preservation, according to Wu?",
    ],
)
def test_a_self_contained_question_is_searched_as_written(question: str) -> None:
    assert not leans_on_history(question)
    assert searched_question(question, [WORKING_GROUP]) == question


def test_a_follow_up_gets_the_earlier_question_and_the_names_of_its_answer() -> None:
    earlier = EarlierTurn(
        question="Who set up the emergency working group?",
        answer="On January 23rd, Alibaba CEO Daniel Jiang and Judy Tong set up an emergency working group: "
        "– Supporting medical services; – Supporting SME’s",
    )
    searched = searched_question("When did they set it up?", [earlier])
    assert searched.startswith("When did they set it up? (")
    assert "emergency working group" in searched and "Daniel" in searched and "Jiang" in searched
    # The first word of a sentence or list item is capitalised anyway: it is not a name.
    assert "Supporting" not in searched and "On" not in searched.split("(")[1]
    assert answer_names("1. Communication [1] 2. Connecting [1]") == []


def test_an_ellipsis_is_read_as_the_earlier_question_with_its_part_replaced() -> None:
    assert completed_ellipsis("And the second?", "What was the first C of the HR strategy?") == (
        "What was the second C of the HR strategy?"
    )
    assert completed_ellipsis("And in 2023?", "Who led Alibaba in 2020?") == "Who led Alibaba in 2023?"
    assert (
        completed_ellipsis("And in Hubei?", "What did HR send to staff?")
        == "What did HR send to staff in Hubei?"
    )
    assert completed_ellipsis("When did they set it up?", "Who set it up?") is None  # a question of its own


def test_no_history_means_the_question_as_asked() -> None:
    assert searched_question("When did they set it up?", None) == "When did they set it up?"
    assert searched_question("When did they set it up?", []) == "When did they set it up?"


def test_a_model_rewrite_is_used_only_when_it_stays_within_the_conversation() -> None:
    history = [WORKING_GROUP]
    question = "When did they set it up?"
    assert faithful_rewrite("When was the emergency working group set up?", question, history)
    # It invents (a name and a place nobody said), drops the context, or rambles.
    assert not faithful_rewrite("When did Jack Ma open the Hangzhou campus?", question, history)
    assert not faithful_rewrite("When did they set it up?", question, history)
    assert not faithful_rewrite("x" * 400, question, history)


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "Who led Alibaba during the crisis, and who has led it since 2023?",
            ["Who led Alibaba during the crisis?", "Who has led it since 2023?"],
        ),
        (
            "What challenges does the tech industry face, and which domestic rivals does Alibaba face?",
            ["What challenges does the tech industry face?", "Which domestic rivals does Alibaba face?"],
        ),
        (
            "Who set up the working group? When was it set up?",
            ["Who set up the working group?", "When was it set up?"],
        ),
        ("Which products and services use AI?", ["Which products and services use AI?"]),  # one ask
        ("Who is Judy Tong and Eric Jing?", ["Who is Judy Tong and Eric Jing?"]),
    ],
)
def test_a_question_is_split_only_where_a_second_ask_begins(question: str, parts: list[str]) -> None:
    assert question_parts(question) == parts


@pytest.mark.parametrize(
    ("question", "item"),
    [
        ("What was the second C of the HR strategy?", 2),
        ("Which is the third one?", 3),
        ("What is the 2nd pillar?", 2),
        ("What was key to the success of the first C?", None),  # about the item, not the item
        ("What were the first words of his speech?", None),
    ],
)
def test_a_question_for_one_numbered_item_names_its_number(question: str, item: int | None) -> None:
    assert asked_item(question) == item
