"""Readers' thumbs-down answers as eval cases: the same JSONL as ``evals/data/golden.jsonl``.

A reader who marks an answer wrong has found a question Cited gets wrong, which is what a
regression set is made of. Each case carries the question and, under ``feedback``, what the reader
was shown and wrote. What the right answer is cannot be known from a click, so ``documents``,
``facts`` and ``evidence`` are left empty for a maintainer to fill in (and ``answerable`` to be
flipped when the right answer was "not found") before the line joins the golden set.
``cited eval --questions FILE`` runs the file as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from service.feedback import Feedback, FeedbackStore


def case(entry: Feedback) -> dict[str, Any]:
    return {
        "id": f"feedback-{entry.id}",
        "kind": "feedback",
        "question": entry.question,
        # A reader who marks an answer wrong expects the documents to answer it; a maintainer flips
        # this when the honest answer was "not found".
        "answerable": True,
        "documents": [],
        "facts": [],
        "evidence": [],
        "feedback": {
            "rating": entry.rating,
            "comment": entry.comment,
            "answer": entry.answer,
            "abstained": entry.abstained,
            "citations": entry.citations,
            "searched_documents": entry.documents,
            "user": entry.user,
            "created": entry.created,
        },
    }


def export(store: FeedbackStore, out: TextIO) -> int:
    """Write every thumbs-down as one JSONL line to ``out``; the number written."""
    entries = store.entries("down")
    for entry in entries:
        out.write(json.dumps(case(entry), ensure_ascii=False) + "\n")
    return len(entries)


def export_to(store: FeedbackStore, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        return export(store, out)
