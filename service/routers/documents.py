from typing import Annotated

from fastapi import APIRouter, Depends

from service.answers import AnswerService
from service.auth import Principal, require
from service.dependencies import get_service
from service.schemas import DocumentList, ErrorBody

router = APIRouter(tags=["documents"])


@router.get(
    "/documents",
    response_model=DocumentList,
    summary="The indexed documents the caller may read",
    responses={
        401: {"model": ErrorBody, "description": "Auth is on and the API key is missing or not valid."},
        403: {"model": ErrorBody, "description": "The API key lacks the `ask` scope."},
        429: {"model": ErrorBody, "description": "Too many requests from this caller; see `Retry-After`."},
    },
)
def documents(
    service: Annotated[AnswerService, Depends(get_service)],
    caller: Annotated[Principal, Depends(require("ask"))],
) -> DocumentList:
    return DocumentList(documents=service.documents(caller.groups))
