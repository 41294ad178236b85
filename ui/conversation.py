"""A page session's conversation: its turns, and how one question becomes one turn.

Kept apart from Gradio so the states a reader can meet (answered, not found, refused, failed) are
decided in one place and can be tested without a browser. Each turn makes the same call as
``POST /ask`` (``service/asking.py``), so the page and the API agree, rate limit included.

Each question is sent with the conversation's earlier turns as ``history`` (as ``POST /ask``
takes it), so a follow-up ("And when did they set it up?") is searched with their context; the
answer says what was searched when that differs from the question.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import ValidationError

from cited.errors import CitedError
from service.answering.answer_service import EmptyIndexError, UnknownDocumentsError
from service.answering.ask_schema import (
    MAX_HISTORY_TURNS,
    MAX_QUESTION_CHARS,
    AnswerSentence,
    AskRequest,
    AskResponse,
    EarlierTurn,
)
from service.asking import Asking
from service.callers import Caller
from service.feedback import Answered, citation_fields
from service.rate_limit import RateLimitedError

log = logging.getLogger("cited.ui")

FAILED = "Something went wrong on our side while answering; it has been logged. Please try again in a moment."


@dataclass
class Turn:
    number: int  # 1 for the session's first question; never reused, even after the chat is cleared
    question: str
    documents: list[str] | None  # the ids the reader limited the search to; None: all they may read
    searched: list[str] = field(default_factory=list)  # those documents' titles, as the reader chose them
    response: AskResponse | None = None
    error: str | None = None  # what the reader is told when there is no response
    stale_documents: bool = False  # the error is that some chosen documents are gone
    rating: str | None = None  # "Like" or "Dislike" as the chat shows it; None: not rated
    # While a generated answer is being written: the passages found (None before retrieval), the
    # sentences verified and shown so far, and how many were withheld.
    found: int | None = None
    shown: list[AnswerSentence] = field(default_factory=list)
    withheld: int = 0

    @property
    def finished(self) -> bool:
        return self.response is not None or self.error is not None

    def answered(self) -> Answered:
        """The turn as a rating is about it: what the reader saw."""
        if self.response is None:
            return Answered(self.question, self.error or "", False, [], self.documents)
        return Answered(
            self.question,
            self.response.answer,
            self.response.abstained,
            citation_fields(self.response.citations),
            self.documents,
        )


@dataclass
class Conversation:
    """One page session: the turns on screen, in order (chat messages 2i and 2i+1 are turn i)."""

    turns: list[Turn] = field(default_factory=list)
    asked: int = 0  # questions asked in this session, cleared ones included

    def turn_at(self, message_index: int) -> Turn | None:
        position = message_index // 2
        return self.turns[position] if 0 <= position < len(self.turns) else None

    def turn_numbered(self, number: int) -> Turn | None:
        return next((t for t in self.turns if t.number == number), None)

    def clear(self) -> None:
        self.turns = []

    def history(self) -> list[EarlierTurn]:
        """The turns on screen as ``history``: the last ones, each answer the reader was given (a
        closest or not-found reply is not an answer, and names no one)."""
        return [
            EarlierTurn(
                question=t.question[:MAX_QUESTION_CHARS],
                answer=t.response.answer[:MAX_QUESTION_CHARS]
                if t.response is not None and t.response.outcome == "answered"
                else None,
            )
            for t in self.turns[-MAX_HISTORY_TURNS:]
        ]


def question_problem(question: str) -> str | None:
    """Why ``question`` cannot be asked, in words for the reader; None when it can."""
    try:
        AskRequest(question=question)
    except ValidationError as exc:
        problem = exc.errors()[0]
        if problem["type"] == "string_too_long":
            return "The question is too long; keep it under 2,000 characters."
        return "Type a question first: it is empty or only spaces."
    return None


def answering(
    asking: Asking,
    number: int,
    question: str,
    documents: list[str] | None,
    caller: Caller,
    history: list[EarlierTurn] | None = None,
) -> Iterator[Turn]:
    """The turn as it is made: after retrieval, after each verified generated sentence, and last
    finished (with its response or a readable ``error``, never an exception). Closing the iterator
    stops a generation in progress."""
    turn = Turn(number, question, documents or None)
    try:
        if turn.documents:
            titles = {d.document_id: d.title for d in asking.documents(caller)}
            turn.searched = [titles.get(d, d) for d in turn.documents]
        request = AskRequest(question=question, documents=turn.documents, history=history or None)
        generating = asking.mode(request) == "generated"
        events = asking.answer_events(request, caller, "page")
        try:
            for event in events:
                if isinstance(event, AskResponse):
                    turn.response = event
                    break
                if isinstance(event, list):
                    turn.found = len(event)
                    if not generating:  # a quoted answer follows at once: nothing to show before it
                        continue
                elif isinstance(event, AnswerSentence):
                    turn.shown.append(event)
                else:
                    turn.withheld += 1
                yield turn
        finally:
            events.close()  # stops a generation in progress
    except UnknownDocumentsError:
        turn.error = (
            "Some of the documents you chose are no longer indexed (deleted or replaced since the list "
            "was loaded). The list has been refreshed: choose again, or clear it to search everything."
        )
        turn.stale_documents = True
    except EmptyIndexError as exc:
        turn.error = str(exc)
    except RateLimitedError as exc:
        turn.error = (
            f"You have asked too many questions in a short time (the limit is {exc.limit} per reader). "
            f"Please wait {exc.retry_after_s} s and ask again."
        )
    except CitedError as exc:  # e.g. the language model is down or too slow: its message names it
        turn.error = exc.message
    except Exception:
        log.exception("the page failed to answer %r", question)
        turn.error = FAILED
    yield turn


def answer(
    asking: Asking,
    number: int,
    question: str,
    documents: list[str] | None,
    caller: Caller,
    history: list[EarlierTurn] | None = None,
) -> Turn:
    """The finished turn of :func:`answering`."""
    *_, turn = answering(asking, number, question, documents, caller, history)
    return turn
