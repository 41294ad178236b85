"""Request ids and request metrics, for every request.

Each response carries ``X-Request-ID``: the caller's own when it sent a sane one (a proxy's, so one
id follows a request through both logs), a fresh one otherwise. While the request runs, every log
record made in it carries the id as ``request_id`` (``-`` outside requests), so a log line can be
tied to the response a user reports.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope

from cited.operations.metrics import Metrics

REQUEST_ID = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _install_record_field() -> None:
    """Every log record gets ``request_id``, whichever logger makes it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)  # type: ignore[arg-type]
        record.request_id = REQUEST_ID.get()
        return record

    factory.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class Observability:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        _install_record_field()

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = sent if _SANE_ID.fullmatch(sent) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception that escaped every handler

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                route = _route(scope)
                self.metrics.request_seconds.labels(route).observe(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            self.metrics.requests.labels(_route(scope), scope.get("method", ""), str(status)).inc()
            REQUEST_ID.reset(token)


def _route(scope: AsgiScope) -> str:
    """The matched route's template (``/documents/{document_id}``), never the raw path: a raw path
    would carry ids and make a label per document."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"
