"""Whether an answer's sentences are backed by the passages they cite.

An answer is split into **statements**: the text up to and including each run of ``[n]`` markers.
Cited's answers put the markers after every sentence they quote, so a statement is one quoted
sentence (or a sentence with the list it introduces). Text after the last marker is a statement
with no citation. What Cited says of a part of a question it could not answer ("Not sure the
documents answer …") is its own words, not a claim from the documents, and is left out.

Definitions follow ALCE (Gao et al. 2023, "Enabling Large Language Models to Generate Text with
Citations", and its ``eval.py``), with a support judge (``evals/judge.py``) in place of their NLI
model:

- **citation recall** of an answer: the share of its statements that the concatenation of their
  cited passages supports. A statement without citations counts as unsupported.
- **citation precision** of an answer: the share of its citations that are needed. A citation of a
  statement that its citations do not support, together, is not needed. A statement with a single
  citation that supports it has a needed citation. When a supported statement has several, a
  citation is *not* needed only if it does not support the statement alone **and** the other
  citations support it without it. Two citations that each support the statement alone are both
  counted as needed (redundant, yet each is a valid source), as in ALCE.
- **groundedness**: the share of statements supported by the *quotes* of their citations, the
  sentences the page highlights. Citation recall reads the whole passage; groundedness checks that
  what a reader is pointed at is itself the evidence.

Abstentions have no statements; they are left out of these means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from evals.judge import SupportJudge
from service.answering.citations import without_own_words

_STATEMENT = re.compile(r"(?P<text>.*?)(?P<marks>(?:\s*\[\d+\])+)", re.S)
_MARK = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Statement:
    text: str
    citations: tuple[int, ...]


def statements(answer: str) -> list[Statement]:
    """Split an answer at its runs of ``[n]`` markers; a trailing unmarked part has no citation."""
    found: list[Statement] = []
    end = 0
    for match in _STATEMENT.finditer(answer):
        text = without_own_words(match.group("text"))
        marks = tuple(dict.fromkeys(int(n) for n in _MARK.findall(match.group("marks"))))
        if text:
            found.append(Statement(text, marks))
        elif found:  # markers with no text before them belong to the previous statement
            previous = found.pop()
            found.append(Statement(previous.text, tuple(dict.fromkeys(previous.citations + marks))))
        end = match.end()
    tail = without_own_words(answer[end:])
    if tail:
        found.append(Statement(tail, ()))
    return found


@dataclass(frozen=True)
class StatementVerdict:
    text: str
    citations: tuple[int, ...]
    supported: bool  # by its cited passages, read together
    grounded: bool  # by its citations' quotes
    needed: tuple[bool, ...]  # per citation, in order: ALCE's precision
    unknown: tuple[int, ...] = ()  # markers that name no citation of the answer


@dataclass(frozen=True)
class AnswerVerdict:
    statements: list[StatementVerdict] = field(default_factory=list)

    @property
    def citation_recall(self) -> float | None:
        if not self.statements:
            return None
        return sum(s.supported for s in self.statements) / len(self.statements)

    @property
    def citation_precision(self) -> float | None:
        needed = [n for s in self.statements for n in s.needed]
        return sum(needed) / len(needed) if needed else None

    @property
    def grounded(self) -> tuple[int, int]:
        return sum(s.grounded for s in self.statements), len(self.statements)


def judge_answer(
    answer: str, passages: dict[int, str], quotes: dict[int, str], judge: SupportJudge
) -> AnswerVerdict:
    """Verdicts for every statement of ``answer``; ``passages`` and ``quotes`` are keyed by ``[n]``."""
    verdicts = []
    for statement in statements(answer):
        cited = [n for n in statement.citations if n in passages]
        unknown = tuple(n for n in statement.citations if n not in passages)
        # A marker naming no citation is a broken reference: ALCE scores the statement unsupported.
        valid = bool(cited) and not unknown
        supported = valid and judge.supports(statement.text, [passages[n] for n in cited])
        grounded = valid and judge.supports(statement.text, [quotes[n] for n in cited])
        verdicts.append(
            StatementVerdict(
                statement.text,
                statement.citations,
                supported,
                grounded,
                _needed(statement.text, cited, passages, judge, supported) + (False,) * len(unknown),
                unknown,
            )
        )
    return AnswerVerdict(verdicts)


def _needed(
    text: str, cited: list[int], passages: dict[int, str], judge: SupportJudge, supported: bool
) -> tuple[bool, ...]:
    if not supported:
        return (False,) * len(cited)
    if len(cited) == 1:
        return (True,)
    needed = []
    for n in cited:
        alone = judge.supports(text, [passages[n]])
        others = [passages[m] for m in cited if m != n]
        needed.append(alone or not judge.supports(text, others))
    return tuple(needed)
