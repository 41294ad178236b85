"""The question sets under evals/data: JSONL, one question per line.

- ``dev_questions.jsonl``: the calibration set that the abstention threshold is fitted on.
- ``golden.jsonl``: the golden set that ``cited eval`` scores; never used to fit anything, so its
  scores estimate how the product does on new questions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
DEV_QUESTIONS = DATA / "dev_questions.jsonl"
GOLDEN_QUESTIONS = DATA / "golden.jsonl"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answerable: bool
    documents: list[str] = field(default_factory=list)  # sources that hold the answer
    facts: list[list[str]] = field(default_factory=list)  # each fact: accepted variants
    # Golden set only: what kind of question it is, and one exact string from each passage the
    # answer needs (two for an answer that spans two passages).
    kind: str = "direct"
    evidence: list[str] = field(default_factory=list)
    # Cases exported from readers' thumbs-down (``cited feedback export``): what the reader was
    # shown and said, kept so whoever fills in the facts and evidence knows what went wrong.
    feedback: dict[str, Any] | None = None

    def facts_found(self, answer: str) -> float:
        """Share of expected facts present in ``answer`` (any variant, case-insensitive)."""
        if not self.facts:
            return 1.0
        text = answer.casefold()
        return sum(any(v.casefold() in text for v in fact) for fact in self.facts) / len(self.facts)

    def missing_facts(self, answer: str) -> list[str]:
        text = answer.casefold()
        return [fact[0] for fact in self.facts if not any(v.casefold() in text for v in fact)]


def load(path: Path = DEV_QUESTIONS) -> list[Question]:
    with path.open(encoding="utf-8") as lines:
        return [Question(**json.loads(line)) for line in lines if line.strip()]
