"""Readers' thumbs up or down on answers, kept in SQLite under the data directory.

Each row holds what the reader saw (question, answer, cited passages, the documents searched)
alongside their rating and optional comment, so a thumbs-down can become an eval case without
asking anyone what happened (``cited feedback export``). One row per answer: clicking the other
thumb changes the rating, un-clicking removes it, and a comment is added to the row it is about.

Every write is its own transaction on a fresh connection, so a crash loses at most the click it
was writing, and concurrent page sessions (Gradio runs handlers on worker threads) never share a
connection.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cited.access.records import now
from cited.store.transactions import transaction

Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 2000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    session TEXT NOT NULL,
    turn INTEGER NOT NULL,
    user TEXT,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    citations TEXT NOT NULL,
    documents TEXT,
    UNIQUE (session, turn)
)
"""


class FeedbackError(ValueError):
    """A comment the store will not keep; the message says why."""


@dataclass(frozen=True)
class Feedback:
    id: int
    created: str
    updated: str
    session: str  # the page session the answer was given in
    turn: int  # 1 for the session's first answer
    user: str | None  # the page login, None with auth off
    rating: Rating
    comment: str
    question: str
    answer: str
    abstained: bool
    citations: list[dict[str, Any]]  # as the reader saw them: id, document_id, source, title, page, quote
    documents: list[str] | None  # the document ids the question was limited to; None: all readable


@dataclass(frozen=True)
class Answered:
    """What a rating is about: the answer as the page showed it."""

    question: str
    answer: str
    abstained: bool
    citations: list[dict[str, Any]]
    documents: list[str] | None


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with transaction(self.path, _SCHEMA) as connection:
            connection.row_factory = sqlite3.Row
            yield connection

    def rate(
        self, session: str, turn: int, rating: Rating, answered: Answered, user: str | None = None
    ) -> Feedback:
        """Record (or change) the rating of one answer, keeping any comment already given."""
        stamp = now()
        with self._connection() as db:
            db.execute(
                """
                INSERT INTO feedback (created, updated, session, turn, user, rating, question, answer,
                                      abstained, citations, documents)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (session, turn) DO UPDATE SET rating = excluded.rating, updated = excluded.updated
                """,
                (
                    stamp,
                    stamp,
                    session,
                    turn,
                    user,
                    rating,
                    answered.question,
                    answered.answer,
                    int(answered.abstained),
                    json.dumps(answered.citations, ensure_ascii=False),
                    None if answered.documents is None else json.dumps(answered.documents),
                ),
            )
            return self._one(db, session, turn)

    def retract(self, session: str, turn: int) -> bool:
        """Forget the rating of one answer (the reader un-clicked it); True if there was one."""
        with self._connection() as db:
            deleted = db.execute("DELETE FROM feedback WHERE session = ? AND turn = ?", (session, turn))
            return deleted.rowcount > 0

    def comment(self, session: str, turn: int, text: str) -> Feedback:
        """Attach a comment to a rated answer."""
        text = text.strip()
        if len(text) > MAX_COMMENT_CHARS:
            raise FeedbackError(
                f"The comment is {len(text):,} characters; keep it under {MAX_COMMENT_CHARS:,}."
            )
        with self._connection() as db:
            changed = db.execute(
                "UPDATE feedback SET comment = ?, updated = ? WHERE session = ? AND turn = ?",
                (text, now(), session, turn),
            ).rowcount
            if not changed:
                raise FeedbackError("Rate the answer with a thumb first; the comment goes with it.")
            return self._one(db, session, turn)

    def entries(self, rating: Rating | None = None) -> list[Feedback]:
        """Every rated answer (or those with ``rating``), oldest first."""
        if not self.path.exists():
            return []
        with self._connection() as db:
            rows = db.execute(
                "SELECT * FROM feedback WHERE ? IS NULL OR rating = ? ORDER BY id", (rating, rating)
            ).fetchall()
        return [_feedback(row) for row in rows]

    def _one(self, db: sqlite3.Connection, session: str, turn: int) -> Feedback:
        row = db.execute("SELECT * FROM feedback WHERE session = ? AND turn = ?", (session, turn)).fetchone()
        return _feedback(row)


def _feedback(row: sqlite3.Row) -> Feedback:
    documents = row["documents"]
    return Feedback(
        id=row["id"],
        created=row["created"],
        updated=row["updated"],
        session=row["session"],
        turn=row["turn"],
        user=row["user"],
        rating=row["rating"],
        comment=row["comment"],
        question=row["question"],
        answer=row["answer"],
        abstained=bool(row["abstained"]),
        citations=json.loads(row["citations"]),
        documents=None if documents is None else json.loads(documents),
    )


def citation_fields(citations: Sequence[Any]) -> list[dict[str, Any]]:
    """What is kept of each cited passage: enough to find it again and see what was quoted."""
    keep = ("id", "document_id", "source", "title", "page", "start", "end", "quote")
    return [{k: getattr(c, k) for k in keep} for c in citations]
