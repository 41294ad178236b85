"""Readers' thumbs up or down on answers, kept in the shared-state database (``cited/database/``).

Each row holds what the reader saw (question, answer, cited passages, the documents searched)
alongside their rating and optional comment, so a thumbs-down can become an eval case without
asking anyone what happened (``cited feedback export``). One row per answer: clicking the other
thumb changes the rating, un-clicking removes it, and a comment is added to the row it is about.

Every write is its own transaction, so a crash loses at most the click it was writing; the engine
gives each of the page's worker threads its own connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cited.access.records import now
from cited.database.engine import Database
from cited.database.schema import feedback as table

Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 2000


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
    def __init__(self, database: Database) -> None:
        self.database = database

    def rate(
        self, session: str, turn: int, rating: Rating, answered: Answered, user: str | None = None
    ) -> Feedback:
        """Record (or change) the rating of one answer, keeping any comment already given."""
        stamp = now()
        insert = postgres_insert if self.database.is_postgres else sqlite_insert
        row = {
            "created": stamp,
            "updated": stamp,
            "session": session,
            "turn": turn,
            "user": user,
            "rating": rating,
            "comment": "",
            "question": answered.question,
            "answer": answered.answer,
            "abstained": answered.abstained,
            "citations": answered.citations,
            "documents": answered.documents,
        }
        statement = insert(table).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=["session", "turn"],
            set_={"rating": statement.excluded.rating, "updated": statement.excluded.updated},
        )
        with self.database.begin() as db:
            db.execute(statement)
            return self._one(db, session, turn)

    def retract(self, session: str, turn: int) -> bool:
        """Forget the rating of one answer (the reader un-clicked it); True if there was one."""
        with self.database.begin() as db:
            deleted = db.execute(table.delete().where(_answer(session, turn)))
            return deleted.rowcount > 0

    def comment(self, session: str, turn: int, text: str) -> Feedback:
        """Attach a comment to a rated answer."""
        text = text.strip()
        if len(text) > MAX_COMMENT_CHARS:
            raise FeedbackError(
                f"The comment is {len(text):,} characters; keep it under {MAX_COMMENT_CHARS:,}."
            )
        with self.database.begin() as db:
            changed = db.execute(
                table.update().where(_answer(session, turn)).values(comment=text, updated=now())
            ).rowcount
            if not changed:
                raise FeedbackError("Rate the answer with a thumb first; the comment goes with it.")
            return self._one(db, session, turn)

    def entries(self, rating: Rating | None = None) -> list[Feedback]:
        """Every rated answer (or those with ``rating``), oldest first."""
        query = select(table).order_by(table.c.id)
        if rating is not None:
            query = query.where(table.c.rating == rating)
        with self.database.begin() as db:
            return [_feedback(row) for row in db.execute(query)]

    def _one(self, db: Connection, session: str, turn: int) -> Feedback:
        return _feedback(db.execute(select(table).where(_answer(session, turn))).one())


def _answer(session: str, turn: int) -> Any:
    return (table.c.session == session) & (table.c.turn == turn)


def _feedback(row: Any) -> Feedback:
    found = dict(row._mapping)
    return Feedback(**{**found, "abstained": bool(found["abstained"])})


def citation_fields(citations: Sequence[Any]) -> list[dict[str, Any]]:
    """What is kept of each cited passage: enough to find it again and see what was quoted."""
    keep = ("id", "document_id", "source", "title", "page", "start", "end", "quote")
    return [{k: getattr(c, k) for k in keep} for c in citations]
