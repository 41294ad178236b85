from typing import Annotated

from fastapi import APIRouter, Depends

from service.answers import AnswerService
from service.dependencies import get_service
from service.schemas import AskRequest, AskResponse, ErrorBody

router = APIRouter(tags=["answers"])


@router.post(
    "/ask",
    response_model=AskResponse,
    summary="Answer a question from the documents, with cited passages",
    responses={
        422: {"model": ErrorBody, "description": "The request is invalid; `message` names the field."},
        503: {"model": ErrorBody, "description": "No document is indexed yet: run `cited ingest`."},
    },
)
def ask(request: AskRequest, service: Annotated[AnswerService, Depends(get_service)]) -> AskResponse:
    """The answer is made of sentences quoted from the retrieved passages, each followed by `[n]`,
    the `id` of the citation it comes from. When the documents do not answer, `abstained` is true
    and no citation is returned."""
    return service.ask(request)
