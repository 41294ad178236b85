"""The audit trail: every question from the API, the page and /v1 is recorded with who, when, the
outcome and the passages shown; it is exported by `cited audit` and `GET /audit` (admin keys only),
kept for CITED_AUDIT_DAYS, and a failed write never touches the answer. Real uvicorn, real SQLite."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cited.access.keys import KeyStore
from cited.database.engine import Database, open_database
from cited.database.schema import audit as audit_table
from cited.operations.metrics import Metrics
from cited.settings import Settings
from evals.live_server import LiveServer
from service.answering.ask_schema import AskResponse, Citation
from service.audit import AuditTrail
from service.callers import Caller
from tests.conftest import HR_DOC, ROOT, invoke_cited

QUESTION = "Which platform hosted the online karaoke?"


@dataclass
class Audited:
    server: LiveServer
    settings: Settings
    board_key: str
    board_id: str
    admin_key: str


@pytest.fixture(scope="module")
def audited(served_corpus: Path) -> Iterator[Audited]:
    """The served corpus with auth on (no ingest of its own): one key that asks, one admin key."""
    settings = Settings(data_dir=served_corpus / "data", corpus_dir=served_corpus / "corpus", auth=True)
    keys = KeyStore(open_database(settings))
    board_record, board_key = keys.add("hr-tool", ["everyone"], ["ask"])
    admin_key = keys.add("auditor", ["everyone"], ["admin"])[1]
    with LiveServer(settings) as server:
        yield Audited(server, settings, board_key, board_record.id, admin_key)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_questions_from_the_api_and_v1_are_recorded_with_the_passages_shown(audited: Audited) -> None:
    with audited.server.client() as client:
        answer = client.post("/ask", json={"question": QUESTION}, headers=bearer(audited.board_key)).json()
        chat = {"model": "cited", "messages": [{"role": "user", "content": QUESTION}]}
        assert (
            client.post("/v1/chat/completions", json=chat, headers=bearer(audited.board_key)).status_code
            == 200
        )
        audited.server.components.audit.flush()

        assert client.get("/audit", headers=bearer(audited.board_key)).status_code == 403  # ask scope only
        assert client.get("/audit").status_code == 401
        records = client.get(
            "/audit", params={"user": f"key:{audited.board_id}"}, headers=bearer(audited.admin_key)
        ).json()["records"]
    api, v1 = records[-2:]
    assert (api["channel"], v1["channel"]) == ("api", "v1")
    assert api["caller"] == f"key:{audited.board_id}" and api["outcome"] == answer["outcome"] == "answered"
    shown = answer["citations"]
    assert api["passages"] == [f"{c['document_id']}:{c['start']}-{c['end']}" for c in shown]
    assert api["documents"] == list(dict.fromkeys(c["document_id"] for c in shown))
    assert any(c["source"] == HR_DOC for c in shown)
    assert api["latency_ms"] > 0 and api["question"] is None  # metadata: no question text
    assert datetime.fromisoformat(api["at"]) > datetime.now(UTC) - timedelta(minutes=5)


def test_the_export_filters_and_writes_jsonl_and_csv(audited: Audited) -> None:
    with audited.server.client() as client:
        client.post("/ask", json={"question": QUESTION}, headers=bearer(audited.board_key))
        audited.server.components.audit.flush()
        document = client.get("/documents", headers=bearer(audited.board_key)).json()["documents"]
        board_id = next(d["document_id"] for d in document if d["source"] == HR_DOC)
        as_csv = client.get("/audit", params={"format": "csv", "document": board_id},
                            headers=bearer(audited.admin_key))  # fmt: skip
        future = client.get("/audit", params={"since": "2999-01-01"}, headers=bearer(audited.admin_key))
        bad = client.get("/audit", params={"since": "yesterday"}, headers=bearer(audited.admin_key))
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"].startswith("text/csv") and rows
    assert all(board_id in row["documents"].split() for row in rows)
    assert future.json()["records"] == []
    assert bad.status_code == 422 and "since" in bad.text

    data = str(audited.settings.data_dir)
    exported = invoke_cited(
        "audit", "--user", audited.board_id, "--format", "jsonl", "--data-dir", data, cwd=ROOT
    )
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert lines and all(line["caller"] == f"key:{audited.board_id}" for line in lines)
    assert f"{len(lines)} audit record(s)" in exported.stderr
    refused = invoke_cited("audit", "--since", "last week", "--data-dir", data, cwd=ROOT)
    assert refused.returncode == 2 and "--since 'last week' is not a date" in refused.stderr


def response(outcome: str = "answered") -> AskResponse:
    citation = Citation(
        id=1, document_id="8df2bd05af565e9b", title="HR", source="hr.txt", text="t", quote="t",
        start=0, end=915, score=1.0,
    )  # fmt: skip
    return AskResponse(answer="t [1]", abstained=False, outcome=outcome, citations=[citation], timings_ms={})


def test_full_keeps_the_question_off_keeps_nothing_and_old_records_expire(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'cited.sqlite'}")
    caller = Caller("mei", frozenset({"board"}), frozenset({"ask"}), "user:mei")
    full = AuditTrail(database, "full", 30, Metrics(), machine="m1")
    full.record("page", caller, "Who approved it?", response(), 12.5)
    AuditTrail(database, "off", 30, Metrics()).record("api", caller, "Not kept", response(), 1.0)
    assert full.flush()
    (kept,) = full.records()
    assert (kept.question, kept.channel, kept.caller, kept.machine) == (
        "Who approved it?",
        "page",
        "user:mei",
        "m1",
    )
    assert kept.passages == ["8df2bd05af565e9b:0-915"] and kept.latency_ms == 12.5
    assert full.records(caller="mei") == [kept] and full.records(caller="tom") == []

    with database.begin() as db:
        old = datetime.now(UTC) - timedelta(days=31)
        expired = {"at": old, "machine": "m1", "channel": "api", "caller": "key:x", "outcome": "answered"}
        db.execute(audit_table.insert().values(**expired, documents=[], passages=[], latency_ms=1.0))
    assert len(full.records()) == 2
    assert full.purge() == 1 and full.records() == [kept]


def test_a_failed_write_is_counted_and_never_reaches_the_answer(tmp_path: Path) -> None:
    metrics = Metrics()
    down = Database("postgresql+psycopg://cited@127.0.0.1:9/cited?connect_timeout=2")  # nothing listens
    trail = AuditTrail(down, "metadata", 30, metrics)
    caller = Caller("k", frozenset({"everyone"}), frozenset({"ask"}), "key:k")
    trail.record("api", caller, "q", response(), 3.0)  # returns at once, raises nothing
    assert trail.flush(timeout_s=30)
    assert "cited_audit_write_failures_total 1.0" in metrics.exposition().decode()
