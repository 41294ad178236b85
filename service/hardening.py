"""Limits and headers every response gets: request size, answers in progress, CORS, security
headers.

The rate limit per caller is ``service/rate_limit.py``.
"""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Send

# The ASGI connection scope (Starlette's name for it): the only "scope" in this module.
from starlette.types import Scope as AsgiScope

from cited.operations.metrics import Metrics
from cited.settings import Settings
from service.observability import Observability

# The API's JSON responses: nothing to run, embed or cache. The page and /docs set their own.
_API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]
_PAGE_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
_PAGE_PREFIXES = ("/ui", "/docs", "/openapi.json", "/redoc")


class RequestLimits:
    """Refuses API bodies over ``max_bytes`` with 413, whether or not they declare their length,
    and adds the security headers.

    An API body is read whole here (it is at most ``max_bytes``) and replayed to the app, so an
    oversize one is refused before any handler sees a byte of it.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        max_upload_bytes: int | None = None,
        max_chat_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # OpenAI-style chat front ends send the whole conversation each time; only its last user
        # message is the question (and is held to the question limit).
        self.max_chat_bytes = max_chat_bytes or max_bytes
        # A multipart upload carries a document; its framing (boundaries, headers) adds a little.
        self.max_upload_bytes = (max_upload_bytes or max_bytes) + _MULTIPART_ALLOWANCE

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = str(scope.get("path", "")).startswith(_PAGE_PREFIXES)
        headers = _PAGE_HEADERS if page else _API_HEADERS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in headers if k not in existing),
                ]
            await send(message)

        if page:
            await self.app(scope, receive, with_headers)
            return
        upload = scope.get("method") == "POST" and scope.get("path") == "/documents"
        chat = scope.get("method") == "POST" and scope.get("path") == CHAT_PATH
        limit = self.max_upload_bytes if upload else self.max_chat_bytes if chat else self.max_bytes
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(send, limit, upload, chat)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        pending: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, with_headers)


async def _too_large(send: Send, max_bytes: int, upload: bool, chat: bool = False) -> None:
    hint = (
        "split the document or raise CITED_MAX_UPLOAD_BYTES"
        if upload
        else "send fewer earlier messages (only the last user message is the question), or raise "
        "CITED_MAX_CHAT_REQUEST_BYTES"
        if chat
        else "a question is at most 2000 characters"
    )
    message = f"The request body is over {max_bytes} bytes; {hint}."
    await send_error(send, 413, "request_too_large", message, chat)


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    chat: bool,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """An error response written before any route runs, in the shape of the route asked: OpenAI's
    for the OpenAI-compatible one, Cited's ``ErrorBody`` for the rest."""
    error: dict[str, object] = (
        {"error": {"message": message, "type": code, "code": code, "param": None}}
        if chat
        else {"error": code, "message": message, "fields": []}
    )
    body = json.dumps(error).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *(headers or []), *_API_HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": body})


_MULTIPART_ALLOWANCE = 16 * 1024
CHAT_PATH = "/v1/chat/completions"
ANSWERING = frozenset({"/ask", CHAT_PATH})


class InFlightLimit:
    """At most ``limit`` answers in progress per process; past it, 503 with ``Retry-After``.

    Two cores answer about 24 questions a second; a burst beyond what they can work through only
    makes every reader wait longer (32 concurrent clients: p50 1.4 s with nothing refused). Refusing
    at once lets a client retry or go elsewhere, and keeps the latency of those admitted bounded.
    An answer counts until its response has been sent, streamed ones included.
    """

    def __init__(self, app: ASGIApp, limit: int, retry_after_s: int, metrics: Metrics) -> None:
        self.app = app
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.metrics = metrics
        self.in_flight = 0  # read and changed on the event loop only: no lock needed

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in ANSWERING:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            message = (
                f"Cited is answering {self.in_flight} questions, its limit (CITED_MAX_IN_FLIGHT); "
                f"retry in {self.retry_after_s} s."
            )
            retry = [(b"retry-after", str(self.retry_after_s).encode())]
            self.metrics.refused_busy.inc()
            await send_error(send, 503, "overloaded", message, scope.get("path") == CHAT_PATH, retry)
            return
        self.in_flight += 1
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.metrics.in_flight.dec()


def install(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    if settings.cors_origins:
        # Closed by default: without origins no CORS header is sent and browsers refuse other sites.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(
        InFlightLimit, limit=settings.max_in_flight, retry_after_s=settings.retry_after_s, metrics=metrics
    )
    app.add_middleware(
        RequestLimits,
        max_bytes=settings.max_request_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        max_chat_bytes=settings.max_chat_request_bytes,
    )
    # Outermost: every response, refusals of the limits above included, gets its request id.
    app.add_middleware(Observability, metrics=metrics)
