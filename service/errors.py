"""Every error as JSON that says what is wrong and how to fix it; never a stack trace.

The one place where an error becomes an HTTP status: the core raises the domain errors of
``cited/errors.py``, which know nothing of HTTP, and :func:`status_of` and :func:`headers_of` map
each kind to its status and headers here.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cited.errors import (
    BusyError,
    CitedError,
    ConflictError,
    DependencyError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    NotReadyError,
    NotSignedInError,
    TimedOutError,
    TooLargeError,
    UnsupportedTypeError,
)
from service.answering.ask_schema import MAX_CHOSEN_DOCUMENTS, MAX_HISTORY_TURNS, MAX_QUESTION_CHARS
from service.rate_limit import RateLimitedError
from service.schemas import ErrorBody

log = logging.getLogger("cited")
OPENAI_PREFIX = "/v1/"

# Most specific first: a language-model timeout is a DependencyError and a TimedOutError, and 504.
_STATUSES: tuple[tuple[type[CitedError], int], ...] = (
    (InvalidInputError, 422),
    (NotSignedInError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (TooLargeError, 413),
    (UnsupportedTypeError, 415),
    (TimedOutError, 504),
    (DependencyError, 502),  # a gateway error: Cited is up, what it depends on is not
    (BusyError, 503),
    (NotReadyError, 503),
)


def status_of(error: CitedError) -> int:
    """The HTTP status of a domain error."""
    return next((status for kind, status in _STATUSES if isinstance(error, kind)), 400)


def headers_of(error: CitedError) -> dict[str, str]:
    """The headers that tell the client what to do next: how to sign in, when to retry."""
    if isinstance(error, NotSignedInError):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, BusyError):
        return {"Retry-After": f"{error.retry_after_s:g}"}
    return {}


_FIELD_HINTS = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "string_too_short": "must not be empty",
    "string_pattern_mismatch": "must contain a question, not only whitespace",
    "string_too_long": f"must be at most {MAX_QUESTION_CHARS} characters; shorten it",
    "extra_forbidden": (
        "is not a known field (the fields are `question`, `history`, `top_k`, `documents`, "
        "`include_retrieved`, `mode` and `stream`)"
    ),
    "list_type": "must be a list of document ids, as GET /documents lists them",
    "too_short": "must list at least one document id; leave the field out to search every document",
    "too_long": f"may list at most {MAX_CHOSEN_DOCUMENTS} documents",
    "model_attributes_type": 'must be a JSON object such as {"question": "..."}',
    "dict_type": 'must be a JSON object such as {"question": "..."}',
}


# The same mistakes, said of ``history`` and its turns.
_HISTORY_HINTS = {
    "list_type": (
        'must be a list of earlier turns, oldest first, such as [{"question": "...", "answer": "..."}]'
    ),
    "too_long": f"may hold at most {MAX_HISTORY_TURNS} earlier turns; send the last ones",
    "model_type": 'must be an object such as {"question": "...", "answer": "..."}',
    "model_attributes_type": 'must be an object such as {"question": "...", "answer": "..."}',
    "dict_type": 'must be an object such as {"question": "...", "answer": "..."}',
    "extra_forbidden": "is not a known field of a turn (the fields are `question` and `answer`)",
    "string_too_long": f"must be at most {MAX_QUESTION_CHARS} characters; cut it",
}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] == "body" else [str(p) for p in loc]
    return ".".join(parts) or "body"


def _problem(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "json_invalid":
        return f"is not valid JSON ({error.get('ctx', {}).get('error', 'parse error')}); send a JSON object"
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"{error['msg'].replace('Input should be', 'must be')}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return _FIELD_HINTS.get(kind, str(error.get("msg", "is invalid")))


def _json(request: Request, status: int, body: ErrorBody) -> JSONResponse:
    if request.url.path.startswith(OPENAI_PREFIX):
        # OpenAI's clients read `error.message`: the OpenAI-compatible routes answer in their shape.
        param = body.fields[0]["field"] if body.fields else None
        error = {"message": body.message, "type": body.error, "code": body.error, "param": param}
        return JSONResponse(status_code=status, content={"error": error})
    return JSONResponse(status_code=status, content=body.model_dump())


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        name = "body" if error.get("type") == "json_invalid" else _field_name(loc)
        problem = _problem(error)
        if name.startswith("history") and error.get("type") in _HISTORY_HINTS:
            problem = _HISTORY_HINTS[str(error["type"])]
        a_document_id = name == "document_id" or name.startswith("documents.")
        if a_document_id and str(error.get("type", "")).startswith("string"):
            problem = "must be a 16-character document id, as GET /documents lists them"
        fields.append({"field": name, "problem": problem})
    message = "; ".join(f"{f['field']}: {f['problem']}" for f in fields)
    return _json(request, 422, ErrorBody(error="invalid_request", message=message, fields=fields))


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot decode at all (bytes that are not UTF-8); the fuzz
        # run found it. It is the same mistake as malformed JSON, so it gets the same 422.
        problem = "is not valid JSON (it is not UTF-8 text); send a JSON object"
        return _json(
            request,
            422,
            ErrorBody(
                error="invalid_request",
                message=f"body: {problem}",
                fields=[{"field": "body", "problem": problem}],
            ),
        )
    codes = {404: "not_found", 405: "method_not_allowed"}
    message = {
        404: "No such endpoint. See /docs for the API, /ui for the page.",
        405: "This endpoint does not accept that method. See /docs.",
    }.get(exc.status_code, str(exc.detail))
    return _json(
        request, exc.status_code, ErrorBody(error=codes.get(exc.status_code, "http_error"), message=message)
    )


async def _refusal(request: Request, exc: CitedError) -> JSONResponse:
    response = _json(
        request, status_of(exc), ErrorBody(error=exc.code, message=exc.message, fields=exc.fields)
    )
    response.headers.update(headers_of(exc))
    return response


async def _rate_limited(request: Request, exc: RateLimitedError) -> JSONResponse:
    response = _json(request, 429, ErrorBody(error="rate_limited", message=str(exc)))
    response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _json(
        request,
        500,
        ErrorBody(error="internal_error", message="Something went wrong on our side; it has been logged."),
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(CitedError, _refusal)  # type: ignore[arg-type]
    app.add_exception_handler(RateLimitedError, _rate_limited)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
