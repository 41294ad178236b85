"""The documents of the index: list them, upload one, delete one."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Request, UploadFile, status

from service.answers import AnswerService
from service.auth import CALLER_RESPONSES, Principal, require
from service.corpus_changes import CorpusChanges
from service.dependencies import get_service
from service.schemas import DOCUMENT_ID_PATTERN, DocumentChange, DocumentList, ErrorBody

router = APIRouter(tags=["documents"])


def get_changes(request: Request) -> CorpusChanges:
    return request.app.state.changes


def _refusal(description: str) -> dict[str, object]:
    return {"model": ErrorBody, "description": description}


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


@router.post(
    "/documents",
    response_model=DocumentChange,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a document (multipart field `file`); it is indexed before the reply",
    responses={
        **CALLER_RESPONSES,
        403: _refusal("The key lacks the `ingest` scope, or the upload would not be readable by its groups."),
        409: _refusal("The corpus folder is not on this machine, or access.yaml is invalid."),
        413: _refusal("The file is over CITED_MAX_UPLOAD_BYTES."),
        415: _refusal("Not a type Cited reads (.txt .md .html .pdf .docx)."),
        422: _refusal("A bad file name, or a file that cannot be read (corrupt, encrypted, binary)."),
        503: _refusal("Another ingest is running; retry."),
    },
)
def upload(
    file: Annotated[UploadFile, File(description="The document: .txt .md .html .pdf or .docx.")],
    changes: Annotated[CorpusChanges, Depends(get_changes)],
    caller: Annotated[Principal, Depends(require("ingest"))],
) -> DocumentChange:
    # The middleware has already bounded the body, so reading it whole is safe.
    change = changes.upload(file.filename or "", file.file.read(), caller.groups)
    return DocumentChange(**{**vars(change), "groups": list(change.groups)})


@router.delete(
    "/documents/{document_id}",
    response_model=DocumentChange,
    summary="Delete a document: its file leaves the corpus folder and its passages the index",
    responses={
        **CALLER_RESPONSES,
        404: _refusal("No such document among those the caller may read."),
        409: _refusal("The corpus folder is not on this machine."),
        503: _refusal("Another ingest is running; retry."),
    },
)
def delete(
    document_id: Annotated[str, Path(pattern=DOCUMENT_ID_PATTERN, description="From GET /documents.")],
    changes: Annotated[CorpusChanges, Depends(get_changes)],
    caller: Annotated[Principal, Depends(require("ingest"))],
) -> DocumentChange:
    change = changes.delete(document_id, caller.groups)
    return DocumentChange(**{**vars(change), "groups": list(change.groups)})
