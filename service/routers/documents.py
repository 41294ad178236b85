from typing import Annotated

from fastapi import APIRouter, Depends

from service.answers import AnswerService
from service.dependencies import get_service
from service.schemas import DocumentList

router = APIRouter(tags=["documents"])


@router.get("/documents", response_model=DocumentList, summary="The indexed documents")
def documents(service: Annotated[AnswerService, Depends(get_service)]) -> DocumentList:
    return DocumentList(documents=service.documents())
