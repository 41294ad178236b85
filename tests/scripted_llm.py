"""A scripted OpenAI-compatible chat endpoint on loopback, for the verifier's exact cases.

Acceptable here only because the issue's cases need exact model outputs that no real model gives
on demand: a sentence citing a passage that does not exist, a wrong number, a model that obeys an
injected instruction, an endpoint that is down, slow or answers garbage. Everything else in the
generative path is tested with the real packaged model (test_generation.py, marked ``llm``).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

from evals.live_server import free_port


class ScriptedChat(BaseHTTPRequestHandler):
    reply: ClassVar[list[str]] = []  # the reply's pieces, streamed one per chunk
    delay_s: ClassVar[float] = 0.0  # pause before each piece
    status: ClassVar[int] = 200
    garbage: ClassVar[bool] = False
    drop: ClassVar[bool] = False  # close the connection without answering: a server that is down
    seen: ClassVar[list[dict[str, object]]] = []
    sent_last_at: ClassVar[float] = 0.0  # monotonic time the last piece went out

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        cls.seen.append(body)
        if cls.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if cls.status != 200:
            self._json(cls.status, {"error": {"message": "scripted failure"}})
            return
        if cls.garbage:
            self._json(200, {"not": "an OpenAI reply"})
            return
        if not body.get("stream"):
            for _ in cls.reply:
                time.sleep(cls.delay_s)
            message = {"role": "assistant", "content": "".join(cls.reply)}
            self._json(
                200,
                {
                    "id": "x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "m",
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                },
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for piece in cls.reply:
                time.sleep(cls.delay_s)
                chunk = {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "m",
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            cls.sent_last_at = time.monotonic()
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading

    def _json(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def scripted_endpoint() -> Iterator[str]:
    """The endpoint's /v1 base URL; set ``ScriptedChat``'s class fields to script it."""
    ScriptedChat.reply, ScriptedChat.delay_s, ScriptedChat.status = [], 0.0, 200
    ScriptedChat.garbage, ScriptedChat.seen, ScriptedChat.sent_last_at = False, [], 0.0
    ScriptedChat.drop = False
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), ScriptedChat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
