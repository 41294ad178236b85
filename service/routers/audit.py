"""The audit trail over HTTP: who asked, when, with what outcome, and which passages they were shown."""

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from service.audit import as_csv, as_jsonl
from service.auth import CALLER_RESPONSES, require
from service.callers import Caller
from service.components import Components
from service.dependencies import get_components
from service.schemas import AuditEntry, AuditList

router = APIRouter(tags=["operations"])


def _utc(moment: datetime | None) -> datetime | None:
    """A time given without a zone is read as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@router.get(
    "/audit",
    response_model=AuditList,
    summary="The audit trail of questions (keys with the `admin` scope only)",
    responses={
        200: {"content": {"application/x-ndjson": {}, "text/csv": {}}},
        **CALLER_RESPONSES,
    },
)
async def audit(
    components: Annotated[Components, Depends(get_components)],
    caller: Annotated[Caller, Depends(require("admin"))],
    since: Annotated[datetime | None, Query(description="From this time (ISO 8601; UTC if no zone).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (ISO 8601).")] = None,
    user: Annotated[
        str | None, Query(max_length=300, description="key:<id>, user:<name>, sso:<name>, or a bare name.")
    ] = None,
    document: Annotated[
        str | None, Query(pattern=r"^[0-9a-f]{16}$", description="Only questions shown this document.")
    ] = None,
    format: Annotated[Literal["json", "jsonl", "csv"], Query(description="Reply format.")] = "json",
    limit: Annotated[int, Query(ge=1, le=100_000, description="Most records returned, oldest first.")] = 1000,
) -> AuditList | Response:
    """Each question asked through the API, the page or `/v1`: when, on which machine, by whom,
    the outcome, the documents and passages shown (`<document id>:<start>-<end>`), the latency,
    and with `CITED_AUDIT=full` the question. Records written in the last moment may still be
    queued."""
    records = await run_in_threadpool(
        components.audit.records, _utc(since), _utc(until), user, document, limit
    )
    if format == "jsonl":
        return Response(as_jsonl(records), media_type="application/x-ndjson")
    if format == "csv":
        return Response(as_csv(records), media_type="text/csv")
    return AuditList(records=[AuditEntry(**asdict(r)) for r in records])
