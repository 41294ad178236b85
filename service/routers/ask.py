from typing import Annotated

from fastapi import APIRouter, Depends

from service.answering.answer_types import AskRequest, AskResponse
from service.asking import Asking
from service.auth import CALLER_RESPONSES, require
from service.callers import Caller
from service.dependencies import get_asking
from service.schemas import ErrorBody

router = APIRouter(tags=["answers"])


@router.post(
    "/ask",
    response_model=AskResponse,
    summary="Answer a question from the documents, with cited passages",
    responses={
        **CALLER_RESPONSES,
        413: {"model": ErrorBody, "description": "The request body is too large."},
        422: {
            "model": ErrorBody,
            "description": (
                "The request is invalid, or `documents` names an unknown id; `message` names the field."
            ),
        },
        503: {"model": ErrorBody, "description": "No document is indexed yet: run `cited ingest`."},
    },
)
def ask(
    request: AskRequest,
    asking: Annotated[Asking, Depends(get_asking)],
    caller: Annotated[Caller, Depends(require("ask", counted=False))],
) -> AskResponse:
    """The answer is made of sentences quoted from the retrieved passages, each followed by `[n]`,
    the `id` of the citation it comes from. When the documents do not answer, `abstained` is true
    and no citation is returned. Only documents of the caller's groups are searched, and of those only
    `documents` when given."""
    return asking.ask(request, caller)
