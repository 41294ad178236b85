from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from service.answering.ask_schema import AskRequest, AskResponse
from service.asking import Asking
from service.auth import CALLER_RESPONSES, require
from service.callers import Caller
from service.dependencies import get_asking
from service.schemas import ErrorBody
from service.streaming import STREAM_RESPONSE, streamed

router = APIRouter(tags=["answers"])


@router.post(
    "/ask",
    response_model=AskResponse,
    summary="Answer a question from the documents, with cited passages",
    responses={
        200: STREAM_RESPONSE,
        **CALLER_RESPONSES,
        413: {"model": ErrorBody, "description": "The request body is too large."},
        422: {
            "model": ErrorBody,
            "description": (
                "The request is invalid, or `documents` names an unknown id; `message` names the field."
            ),
        },
        502: {"model": ErrorBody, "description": "The language model failed or answered garbage."},
        503: {"model": ErrorBody, "description": "No document is indexed yet: run `cited ingest`."},
        504: {
            "model": ErrorBody,
            "description": "The answer outlived CITED_ANSWER_TIMEOUT_S, or the language model timed out.",
        },
    },
)
async def ask(
    request: AskRequest,
    http: Request,
    asking: Annotated[Asking, Depends(get_asking)],
    caller: Annotated[Caller, Depends(require("ask", counted=False))],
) -> AskResponse | StreamingResponse:
    """The answer is made of sentences quoted from the retrieved passages, each followed by `[n]`,
    the `id` of the citation it comes from. When the documents do not answer, `abstained` is true
    and no citation is returned. Only documents of the caller's groups are searched, and of those only
    `documents` when given.

    With `"stream": true` the answer comes as server-sent events (`text/event-stream`): `passages`,
    each generated `sentence` once verified (and each `withheld` one), `citations`, then `done`
    with the whole response, or `error` if the language model fails mid-answer."""
    if not request.stream:
        return await asking.ask_in_time(request, caller)
    return await streamed(http, await run_in_threadpool(asking.answer_events, request, caller))
