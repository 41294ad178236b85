"""The one call that answers a question for a caller.

``POST /ask`` and the page both come here, so both count against the caller's rate limit and read
only the caller's groups: the page cannot be used to get round a limit the API enforces.
"""

from __future__ import annotations

from collections.abc import Iterator

from service.answering.answer_types import AskRequest, AskResponse, DocumentInfo
from service.answering.answers import AnswerEvent, AnswerService
from service.callers import Caller
from service.rate_limit import RateLimit


class Asking:
    def __init__(self, answers: AnswerService, rate_limit: RateLimit) -> None:
        self.answers = answers
        self.rate_limit = rate_limit

    def ask(self, request: AskRequest, caller: Caller) -> AskResponse:
        """Count the question against the caller's limit (429 past it), then answer it from the
        documents the caller may read."""
        self.rate_limit.hit(caller.rate_key)
        return self.answers.ask(request, caller.groups)

    def answer_events(self, request: AskRequest, caller: Caller) -> Iterator[AnswerEvent]:
        """The same answer as :meth:`ask`, as events (``service/streaming.py``), counted the same."""
        self.rate_limit.hit(caller.rate_key)
        return self.answers.answer_events(request, caller.groups)

    def documents(self, caller: Caller) -> list[DocumentInfo]:
        """The documents the caller may read (not counted: the page loads them on every visit)."""
        return self.answers.documents(caller.groups)
