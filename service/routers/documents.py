from typing import Annotated

from fastapi import APIRouter, Depends

from service.answers import AnswerService
from service.auth import CALLER_RESPONSES, Principal, require
from service.dependencies import get_service
from service.schemas import DocumentList

router = APIRouter(tags=["documents"])


@router.get(
    "/documents",
    response_model=DocumentList,
    summary="The indexed documents the caller may read",
    responses=CALLER_RESPONSES,
)
def documents(
    service: Annotated[AnswerService, Depends(get_service)],
    caller: Annotated[Principal, Depends(require("ask"))],
) -> DocumentList:
    return DocumentList(documents=service.documents(caller.groups))
