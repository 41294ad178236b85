"""The HTTP API's own models (documents changed, health, errors), with the examples shown at /docs.

The question and answer models belong to the answer path: ``service/answering/ask_schema.py``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from service.answering.ask_schema import DocumentInfo


class DocumentList(BaseModel):
    documents: list[DocumentInfo]


class DocumentChange(BaseModel):
    """What an upload or a delete did to the index."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "status": "added",
                    "document_id": "3f2a9c0d1b7e4a55",
                    "source": "uploads/strategy-2026.pdf",
                    "title": "Strategy 2026",
                    "chunks": 14,
                    "groups": ["everyone"],
                    "removed_sources": [],
                }
            ]
        }
    }

    status: Literal["added", "replaced", "unchanged", "duplicate", "removed"] = Field(
        ...,
        description=(
            "added / replaced (new bytes under that name) / unchanged (the same bytes again) / "
            "duplicate (the same bytes are already indexed under another name; that one is shown) / "
            "removed."
        ),
    )
    document_id: str
    source: str = Field(..., description="Path inside the corpus folder.")
    title: str
    chunks: int = Field(..., description="Passages indexed (0 once removed).")
    groups: list[str] = Field(..., description="Who may read it (access.yaml).")
    removed_sources: list[str] = Field([], description="Files taken out of the corpus folder by a delete.")


class Health(BaseModel):
    status: str = Field(..., description="`ready`, or `empty` when no document is indexed.")
    chunks: int | None = Field(
        ..., description="Passages in the index; null when auth is on, since the count is not per caller."
    )


class ErrorBody(BaseModel):
    error: str = Field(..., description="A short machine-readable code.")
    message: str = Field(..., description="What is wrong and how to fix it.")
    fields: list[dict[str, str]] = Field(default_factory=list, description="Per-field problems (422).")


class AuditEntry(BaseModel):
    """One question on the audit trail."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "at": "2026-12-07T10:31:02.114+00:00",
                    "machine": "cited-a",
                    "channel": "api",
                    "caller": "key:0a1b2c3d",
                    "outcome": "answered",
                    "documents": ["8df2bd05af565e9b"],
                    "passages": ["8df2bd05af565e9b:0-915"],
                    "latency_ms": 41.3,
                    "question": None,
                }
            ]
        }
    }

    at: str = Field(..., description="When the answer was given (ISO 8601, UTC).")
    machine: str = Field(..., description="The machine that answered (CITED_MACHINE_NAME or its host name).")
    channel: Literal["api", "page", "v1"] = Field(..., description="POST /ask, the page, or /v1.")
    caller: str = Field(..., description="key:<id>, user:<name>, sso:<name>, or address:<ip> with auth off.")
    outcome: str = Field(..., description="answered, closest or not_found.")
    documents: list[str] = Field(..., description="Ids of the documents whose passages were shown.")
    passages: list[str] = Field(..., description="Each passage shown, as <document id>:<start>-<end>.")
    latency_ms: float
    question: str | None = Field(None, description="The question, with CITED_AUDIT=full only.")


class AuditList(BaseModel):
    records: list[AuditEntry]
