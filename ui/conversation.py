"""A page session's conversation: its turns, and how one question becomes one turn.

Kept apart from Gradio so the states a reader can meet (answered, not found, refused, failed) are
decided in one place and can be tested without a browser. Each turn calls the same
:class:`AnswerService` as ``POST /ask``, so the page and the API always agree.

Every question is answered on its own: the service retrieves for the question as written and does
not rewrite a follow-up ("and who led it?") from the turns before it. The only generator available
here is a 135M-parameter model, too weak to rewrite questions faithfully, and a wrong rewrite would
cite passages for a question the reader did not ask.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pydantic import ValidationError

from service.answers import AnswerService, EmptyIndexError, UnknownDocumentsError
from service.feedback import Answered, citation_fields
from service.schemas import AskRequest, AskResponse

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


def answer(
    service: AnswerService,
    number: int,
    question: str,
    documents: list[str] | None,
    groups: frozenset[str] | None,
) -> Turn:
    """Ask the service; failures become a turn with a readable ``error``, never an exception."""
    turn = Turn(number, question, documents or None)
    try:
        if turn.documents:
            titles = {d.document_id: d.title for d in service.documents(groups)}
            turn.searched = [titles.get(d, d) for d in turn.documents]
        turn.response = service.ask(AskRequest(question=question, documents=turn.documents), groups)
    except UnknownDocumentsError:
        turn.error = (
            "Some of the documents you chose are no longer indexed (deleted or replaced since the list "
            "was loaded). The list has been refreshed: choose again, or clear it to search everything."
        )
        turn.stale_documents = True
    except EmptyIndexError as exc:
        turn.error = str(exc)
    except Exception:
        log.exception("the page failed to answer %r", question)
        turn.error = FAILED
    return turn
