"""SQuAD 2.0 questions over their articles, read in place (``../shared/benchmarks/squad2-dev``).

Scoring follows the dataset's README: an answerable question is answered right when the answer
text contains one of its gold answers after SQuAD's normalisation (lower case, no punctuation, no
articles, single spaces); an unanswerable question is right when the answer abstains.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from pathlib import Path

from cited.errors import InvalidInputError

SQUAD2 = Path("../shared/benchmarks/squad2-dev")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


class SquadDatasetError(InvalidInputError):
    """The folder is not a SQuAD 2.0 slice as ``squad2-dev/README.md`` describes it."""

    def __init__(self, message: str) -> None:
        super().__init__("not_a_squad_slice", message)


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    article: str
    paragraph: int
    question: str
    answerable: bool
    answers: tuple[str, ...]
    plausible_answers: tuple[str, ...]


def normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, punctuation and articles removed, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    """True when ``text`` holds one of the gold ``answers`` (both normalised)."""
    normalised = f" {normalise(text)} "
    return any(f" {normalise(a)} " in normalised for a in answers if normalise(a))


def load_questions(dataset: Path) -> list[SquadQuestion]:
    path = dataset / "questions.jsonl"
    if not path.is_file() or not (dataset / "corpus").is_dir():
        raise SquadDatasetError(f"{dataset} is not a SQuAD 2.0 slice: it needs questions.jsonl and corpus/")
    questions = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                raw = json.loads(line)
                questions.append(
                    SquadQuestion(
                        id=str(raw["id"]),
                        article=str(raw["article"]),
                        paragraph=int(raw["paragraph"]),
                        question=str(raw["question"]),
                        answerable=bool(raw["answerable"]),
                        answers=tuple(raw.get("answers") or ()),
                        plausible_answers=tuple(raw.get("plausible_answers") or ()),
                    )
                )
    return questions
