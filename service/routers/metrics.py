from typing import Annotated

from fastapi import APIRouter, Depends, Response

from cited.operations.metrics import CONTENT_TYPE
from service.auth import CALLER_RESPONSES, require
from service.callers import Caller
from service.components import Components
from service.dependencies import get_components

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics: requests, latency per step, abstentions, answers in progress, uploads",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}, **CALLER_RESPONSES},
)
def metrics(
    components: Annotated[Components, Depends(get_components)],
    caller: Annotated[Caller, Depends(require("admin"))],
) -> Response:
    """With auth on, a key with the `admin` scope. No document text is exposed: labels are routes,
    methods, statuses, steps and modes."""
    return Response(components.metrics.exposition(), media_type=CONTENT_TYPE)
