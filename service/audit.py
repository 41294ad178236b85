"""The audit trail: who asked, when, through what, with what outcome, and which passages they were shown.

``CITED_AUDIT=metadata`` (the default) keeps the caller, the channel (``api``, ``page``, ``v1``),
the outcome, the documents and passages shown and the latency; ``full`` adds the question's text;
``off`` keeps nothing. Records are kept ``CITED_AUDIT_DAYS`` and deleted by the writer once an hour.

Recording never slows or fails an answer: :meth:`AuditTrail.record` only puts the record on a
queue, and one thread per process writes the queue to the shared-state database in batches. A
write that fails (the database is down) is logged and counted in ``/metrics``
(``cited_audit_write_failures_total``), as is a record dropped because the queue was full; the
answer itself has long gone to the reader.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select

from cited.database.engine import Database
from cited.database.schema import audit as table
from cited.operations.metrics import Metrics
from service.answering.ask_schema import AskResponse
from service.callers import Caller

Channel = Literal["api", "page", "v1"]
_log = logging.getLogger("cited.audit")
_QUEUE_LIMIT = 10_000
_BATCH = 200
_PURGE_EVERY_S = 3600.0


@dataclass(frozen=True)
class AuditRecord:
    at: str  # ISO 8601, UTC
    machine: str
    channel: str
    caller: str  # key:<id>, user:<name>, sso:<name> or address:<ip> (auth off)
    outcome: str
    documents: list[str]  # ids of the documents whose passages were shown
    passages: list[str]  # each shown passage as <document id>:<start>-<end>
    latency_ms: float
    question: str | None = None  # only with CITED_AUDIT=full

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


class AuditTrail:
    def __init__(
        self,
        database: Database,
        mode: Literal["off", "metadata", "full"],
        days: int,
        metrics: Metrics,
        machine: str | None = None,
    ) -> None:
        self.database = database
        self.mode = mode
        self.days = days
        self.metrics = metrics
        self.machine = machine or socket.gethostname()
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=_QUEUE_LIMIT)
        self._writer: threading.Thread | None = None
        self._started = threading.Lock()
        self._last_purge = 0.0

    def record(
        self, channel: Channel, caller: Caller, question: str, response: AskResponse, ms: float
    ) -> None:
        """Queue one question's record (nothing with ``CITED_AUDIT=off``); never raises, never waits."""
        if self.mode == "off":
            return
        shown = response.citations
        row = {
            "at": datetime.now(UTC),
            "machine": self.machine,
            "channel": channel,
            "caller": caller.rate_key,
            "outcome": response.outcome,
            "documents": list(dict.fromkeys(c.document_id for c in shown)),
            "passages": [f"{c.document_id}:{c.start}-{c.end}" for c in shown],
            "latency_ms": round(ms, 1),
            "question": question if self.mode == "full" else None,
        }
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self.metrics.audit_write_failures.inc()
            _log.error("audit queue full (%d records): a record was dropped", _QUEUE_LIMIT)
        self._start()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued record is written or has failed; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def purge(self) -> int:
        """Delete records older than ``CITED_AUDIT_DAYS``; how many went."""
        cutoff = datetime.now(UTC) - timedelta(days=self.days)
        with self.database.begin() as db:
            return db.execute(table.delete().where(table.c.at < cutoff)).rowcount

    def records(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        caller: str | None = None,
        document: str | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        """Records oldest first; ``caller`` matches ``key:<id>``, ``user:<name>`` or the bare name."""
        query = select(table).order_by(table.c.at, table.c.id)
        if since is not None:
            query = query.where(table.c.at >= since)
        if until is not None:
            query = query.where(table.c.at < until)
        if caller is not None:
            names = [caller] if ":" in caller else [f"{kind}:{caller}" for kind in ("user", "sso", "key")]
            query = query.where(table.c.caller.in_(names))
        if document is None and limit is not None:
            query = query.limit(limit)  # otherwise the documents are filtered here, before the limit
        with self.database.begin() as db:
            rows = [dict(row._mapping) for row in db.execute(query)]
        found = [_record(r) for r in rows if document is None or document in r["documents"]]
        return found[:limit] if limit is not None else found

    def _start(self) -> None:
        if self._writer is not None:
            return
        with self._started:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_forever, name="cited-audit", daemon=True)
                self._writer.start()

    def _write_forever(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < _BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            except Exception:  # a writer that died would lose every later record
                self.metrics.audit_write_failures.inc(len(batch))
                _log.exception("audit: %d record(s) could not be written", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _write(self, batch: list[dict[str, Any]]) -> None:
        with self.database.begin() as db:
            db.execute(table.insert(), batch)
        if time.monotonic() - self._last_purge > _PURGE_EVERY_S:
            self._last_purge = time.monotonic()
            self.purge()


def _record(row: dict[str, Any]) -> AuditRecord:
    at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)  # SQLite keeps no zone
    return AuditRecord(
        at=at.astimezone(UTC).isoformat(timespec="milliseconds"),
        machine=row["machine"],
        channel=row["channel"],
        caller=row["caller"],
        outcome=row["outcome"],
        documents=list(row["documents"]),
        passages=list(row["passages"]),
        latency_ms=row["latency_ms"],
        question=row["question"],
    )


FIELDS = tuple(AuditRecord.__dataclass_fields__)


def as_jsonl(records: Iterable[AuditRecord]) -> str:
    return "".join(r.to_json() + "\n" for r in records)


def as_csv(records: Iterable[AuditRecord]) -> str:
    """One row per record; lists joined with spaces (ids hold none)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    for r in records:
        row = asdict(r)
        writer.writerow(
            [" ".join(v) if isinstance(v, list) else ("" if v is None else v) for v in row.values()]
        )
    return out.getvalue()
