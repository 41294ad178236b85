"""Answers as server-sent events (``POST /ask`` with ``"stream": true``, and the OpenAI endpoint).

Events, in order (each ``data`` is one JSON object):

- ``passages``: ``{"passages": [...]}``, the retrieved passages, ``rank`` being the number the
  language model sees them under;
- ``sentence``: one generated sentence that passed verification (``AnswerSentence``), sent as soon
  as it is verified, while the model is still writing the next;
- ``withheld``: one generated sentence that failed verification, with the reason (never part of
  the answer);
- ``citations``: ``{"citations": [...]}``, the passages the answer cites, numbered as its markers;
- ``done``: the whole response, as ``POST /ask`` without streaming returns it, timings included;
- ``error``: ``{"error": ..., "message": ...}`` instead of ``done`` when the language model fails
  mid-answer (the sentences already sent were each verified).

A client that disconnects stops the generation: the answer's iterator is closed, which closes the
model's stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

from fastapi import Request
from fastapi.responses import StreamingResponse
from fastapi.sse import format_sse_event
from starlette.concurrency import run_in_threadpool

from cited.errors import CitedError
from service.answering.answer_service import AnswerEvent
from service.answering.ask_schema import AnswerSentence, WithheldSentence
from service.schemas import ErrorBody

_END = object()

# The stream as documented in the OpenAPI description (200 of POST /ask with "stream": true).
EXAMPLE = (
    'event: passages\ndata: {"passages": [{"rank": 1, "document_id": "2286e7fb75b62118", "text": "On '
    'January 23rd, ...", ...}]}\n\n'
    'event: sentence\ndata: {"text": "The working group was set up on January 23rd. [1]", "citations": [1], '
    '"citation": 1, "quote": "On January 23rd, ...", "score": 0.81}\n\n'
    'event: withheld\ndata: {"text": "It was led by Jack Ma [1].", "reason": "the name Jack, Ma is not in '
    'the cited passages"}\n\n'
    'event: citations\ndata: {"citations": [{"id": 1, "quote": "On January 23rd, ...", ...}]}\n\n'
    'event: done\ndata: {"answer": "The working group was set up on January 23rd. [1]", "mode": '
    '"generated", "timings_ms": {"first_sentence": 812.4, "total": 2310.9}, ...}\n\n'
)
# One event of the stream, as OpenAPI 3.2 describes server-sent events (``itemSchema``).
EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "event": {
            "type": "string",
            "enum": ["passages", "sentence", "withheld", "citations", "done", "error"],
        },
        "data": {"type": "string", "description": "One JSON object (see the event list above)."},
    },
    "required": ["event", "data"],
}
STREAM_RESPONSE = {
    "description": (
        'JSON (AskResponse), or with `"stream": true` server-sent events: `passages`, `sentence` '
        "(each once verified), `withheld`, `citations`, then `done` (the whole AskResponse) or `error`."
    ),
    "content": {"text/event-stream": {"itemSchema": EVENT_SCHEMA, "example": EXAMPLE}},
}


def event_bytes(event: AnswerEvent) -> bytes:
    if isinstance(event, list):
        return _sse("passages", '{"passages": [' + ", ".join(p.model_dump_json() for p in event) + "]}")
    if isinstance(event, AnswerSentence):
        return _sse("sentence", event.model_dump_json())
    if isinstance(event, WithheldSentence):
        return _sse("withheld", event.model_dump_json())
    citations = '{"citations": [' + ", ".join(c.model_dump_json() for c in event.citations) + "]}"
    return _sse("citations", citations) + _sse("done", event.model_dump_json())


def _sse(name: str, data: str) -> bytes:
    return format_sse_event(event=name, data_str=data)


async def streamed(
    request: Request,
    answer: Iterator[AnswerEvent],
    encode: Callable[[AnswerEvent], bytes] = event_bytes,
    on_error: Callable[[CitedError], bytes] | None = None,
) -> StreamingResponse:
    """The answer as a ``text/event-stream`` response. Its first event is taken here, so that a
    refusal before any event (an empty index, unknown document ids) is an ordinary HTTP error."""
    first = await run_in_threadpool(next, answer)
    return StreamingResponse(
        events(request, answer, first, encode, on_error),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def events(
    request: Request,
    answer: Iterator[AnswerEvent],
    first: AnswerEvent,
    encode: Callable[[AnswerEvent], bytes] = event_bytes,
    on_error: Callable[[CitedError], bytes] | None = None,
) -> AsyncIterator[bytes]:
    """``first`` (already taken, so that a refusal before any event is an HTTP error) and the rest
    of ``answer``, encoded; the answer is closed when the client goes away."""
    try:
        yield encode(first)
        while True:
            if await request.is_disconnected():
                return
            try:
                event = await run_in_threadpool(next, answer, _END)
            except CitedError as error:
                yield on_error(error) if on_error else _sse("error", _error_json(error))
                return
            if event is _END:
                return
            yield encode(event)  # type: ignore[arg-type]
    finally:
        await run_in_threadpool(answer.close)  # type: ignore[attr-defined]


def _error_json(error: CitedError) -> str:
    return ErrorBody(error=error.code, message=error.message).model_dump_json()
