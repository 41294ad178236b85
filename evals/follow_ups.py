"""The follow-up set (``evals/data/follow_ups.jsonl``): two-turn conversations over ``corpus/``.

The first question is asked alone; the second with the first as ``history`` (and the first answer,
when there was one), as the page and ``/v1/chat/completions`` send it. The second is scored:
useful (every expected fact in the answer, or in the closest passages shown), and whether it was
searched as it should be: a self-contained question unchanged, a follow-up with context. The same
second questions asked without history show what the context buys. It is a dev set: written for
this suite, never fitted on, and it shares no question with the golden set.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from evals.questions import DATA, Question
from evals.suite import Target
from service.answering.ask_schema import AskResponse, EarlierTurn

FOLLOW_UPS = DATA / "follow_ups.jsonl"


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: list[str]  # the first question, then the follow-up
    self_contained: bool  # the follow-up can be searched as written
    answerable: bool
    documents: list[str] = field(default_factory=list)
    facts: list[list[str]] = field(default_factory=list)

    def question(self) -> Question:
        return Question(self.id, self.turns[1], self.answerable, self.documents, self.facts)


def load_conversations(path: Path = FOLLOW_UPS) -> list[Conversation]:
    with path.open(encoding="utf-8") as lines:
        return [Conversation(**json.loads(line)) for line in lines if line.strip()]


def shown_text(response: AskResponse) -> str:
    """What the reader is shown that could answer: the answer, or the closest passages."""
    if response.outcome == "closest":
        return " ".join(c.text for c in response.citations)
    return "" if response.abstained else response.answer


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def run_follow_ups(target: Target, conversations: list[Conversation], top_k: int) -> dict[str, object]:
    rows = []
    for c in conversations:
        first = target.ask(c.turns[0], top_k)
        history = [EarlierTurn(question=c.turns[0], answer=None if first.abstained else first.answer)]
        second = target.ask(c.turns[1], top_k, history)
        alone = target.ask(c.turns[1], top_k)
        question = c.question()
        rows.append(
            {
                "id": c.id,
                "turns": c.turns,
                "self_contained": c.self_contained,
                "answerable": c.answerable,
                "searched_question": second.searched_question,
                "outcome": second.outcome,
                "useful": c.answerable and question.facts_found(shown_text(second)) == 1.0,
                "useful_alone": c.answerable and question.facts_found(shown_text(alone)) == 1.0,
                "precise": c.answerable
                and not second.abstained
                and question.facts_found(second.answer) == 1.0,
                "searched_as_written": second.searched_question == c.turns[1],
            }
        )
    answerable = [r for r in rows if r["answerable"]]
    leaning = [r for r in rows if not r["self_contained"]]
    metrics = {
        "follow_up.conversations": float(len(rows)),
        "follow_up.useful": _mean([float(r["useful"]) for r in answerable]),
        "follow_up.useful_without_history": _mean([float(r["useful_alone"]) for r in answerable]),
        "follow_up.answered": _mean([float(r["outcome"] == "answered") for r in answerable]),
        "follow_up.precision": _mean([float(r["precise"]) for r in answerable if r["outcome"] == "answered"]),
        "follow_up.self_contained_unchanged": _mean(
            [float(r["searched_as_written"]) for r in rows if r["self_contained"]]
        ),
        "follow_up.contextualised": _mean([float(not r["searched_as_written"]) for r in leaning]),
        "follow_up.unanswerable_answered": float(
            sum(r["outcome"] == "answered" for r in rows if not r["answerable"])
        ),
    }
    misses = [
        f"{r['id']}: {' → '.join(r['turns'])} (searched: {r['searched_question']!r}; {r['outcome']})"
        for r in rows
        if (r["answerable"] and not r["useful"]) or (r["self_contained"] and not r["searched_as_written"])
    ]
    return {"metrics": metrics, "rows": rows, "misses": misses}
