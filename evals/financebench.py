"""FinanceBench's filings and questions (``../shared/benchmarks/financebench-dev``), and how their
evidence is scored: read in place, never copied.

The dataset's README gives the scoring. A passage is *evidence* when it sits on an evidence page of
the question's own filing (``pages`` are 0-based; Cited numbers pages from 1), or when at least 40% of
its word 5-grams appear in one of the evidence texts, wherever it sits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
_SHARED_GRAMS = 0.4


class DatasetError(Exception):
    """The folder is not a FinanceBench slice; the message says what is missing."""


@dataclass(frozen=True)
class FilingQuestion:
    id: str
    doc: str  # the PDF's stem
    company: str
    question: str
    pages: tuple[int, ...]  # evidence pages, 1-based as Cited's
    evidence: tuple[str, ...]


def load_questions(dataset: Path) -> list[FilingQuestion]:
    path = dataset / "questions.jsonl"
    if not path.is_file() or not (dataset / "pdfs").is_dir():
        raise DatasetError(
            f"{dataset} is not a FinanceBench folder: it needs questions.jsonl and pdfs/ "
            "(pass --dataset ../shared/benchmarks/financebench-dev)"
        )
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        questions.append(
            FilingQuestion(
                id=row["id"],
                doc=row["doc"],
                company=row["company"],
                question=row["question"],
                pages=tuple(int(p) + 1 for p in row["pages"]),
                evidence=tuple(row.get("evidence") or ()),
            )
        )
    return questions


def filings(dataset: Path) -> list[Path]:
    return sorted((dataset / "pdfs").glob("*.pdf"))


def _grams(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


class EvidenceJudge:
    """Whether a passage is evidence for a question (the README's test)."""

    def __init__(self, question: FilingQuestion) -> None:
        self.question = question
        self._evidence = [_grams(text) for text in question.evidence]

    def holds(self, source: str, page: int | None, text: str) -> bool:
        if Path(source).stem == self.question.doc and page in self.question.pages:
            return True
        grams = _grams(text)
        if not grams:
            return False
        return any(len(grams & evidence) / len(grams) >= _SHARED_GRAMS for evidence in self._evidence)

    def any_of(self, passages: Iterable[tuple[str, int | None, str]]) -> bool:
        return any(self.holds(*passage) for passage in passages)
