"""The real app served by uvicorn on a free loopback port, in a thread: for tests and benchmarks."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn

from cited.models.embedding import Embedder
from cited.settings import Settings
from service.app import create_app
from service.components import Components, build_components


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """``with LiveServer(settings) as server:`` serves until the block ends."""

    def __init__(
        self,
        settings: Settings,
        startup_timeout: float = 120,
        embedder: Embedder | None = None,
        components: Components | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        # An embedder already loaded (the tests' one per process) is shared instead of loaded again;
        # ``components`` already built (another server's, with other settings) are served as they are.
        self.components = components or build_components(settings, embedder)
        app = create_app(components=self.components)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)
