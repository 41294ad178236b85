from typing import Annotated

from fastapi import APIRouter, Depends

from service.answers import AnswerService
from service.auth import CALLER_RESPONSES, Principal, require
from service.dependencies import get_service
from service.schemas import AskRequest, AskResponse, ErrorBody

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
    service: Annotated[AnswerService, Depends(get_service)],
    caller: Annotated[Principal, Depends(require("ask"))],
) -> AskResponse:
    """The answer is made of sentences quoted from the retrieved passages, each followed by `[n]`,
    the `id` of the citation it comes from. When the documents do not answer, `abstained` is true
    and no citation is returned. Only documents of the caller's groups are searched, and of those only
    `documents` when given."""
    return service.ask(request, caller.groups)
