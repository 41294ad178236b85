"""The documents of the index: list them, upload one, delete one."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, UploadFile, status

from ingest.changes import CorpusChanges
from ingest.formats import READABLE
from service.answering.ask_schema import DOCUMENT_ID_PATTERN
from service.asking import Asking
from service.auth import CALLER_RESPONSES, require
from service.callers import Caller
from service.dependencies import get_asking, get_changes
from service.schemas import DocumentChange, DocumentList, ErrorBody

router = APIRouter(tags=["documents"])


def _refusal(description: str) -> dict[str, object]:
    return {"model": ErrorBody, "description": description}


@router.get(
    "/documents",
    response_model=DocumentList,
    summary="The indexed documents the caller may read",
    responses=CALLER_RESPONSES,
)
def documents(
    asking: Annotated[Asking, Depends(get_asking)],
    caller: Annotated[Caller, Depends(require("ask"))],
) -> DocumentList:
    return DocumentList(documents=asking.documents(caller))


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
        415: _refusal(f"Not a type Cited reads ({READABLE})."),
        422: _refusal("A bad file name, or a file that cannot be read (corrupt, encrypted, binary)."),
        503: _refusal("Another ingest is running; retry."),
    },
)
def upload(
    file: Annotated[UploadFile, File(description=f"The document: {READABLE}.")],
    changes: Annotated[CorpusChanges, Depends(get_changes)],
    caller: Annotated[Caller, Depends(require("ingest"))],
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
    caller: Annotated[Caller, Depends(require("ingest"))],
) -> DocumentChange:
    change = changes.delete(document_id, caller.groups)
    return DocumentChange(**{**vars(change), "groups": list(change.groups)})
