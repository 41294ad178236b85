from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from service.components import Components
from service.dependencies import get_components
from service.schemas import Health

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    summary="Ready once the model is loaded and the index holds documents",
    responses={503: {"model": Health, "description": "The index is empty: run `cited ingest`."}},
)
def health(components: Annotated[Components, Depends(get_components)]) -> JSONResponse:
    chunks = components.answers.store.count()  # a count, not a scan: probes call this often
    # /health needs no key, so with auth on it must not tell strangers how large the corpus is.
    shown = None if components.settings.auth else chunks
    body = Health(status="ready" if chunks else "empty", chunks=shown)
    return JSONResponse(status_code=200 if chunks else 503, content=body.model_dump())
