"""Servers over one store, asked the same questions in an order that rotates question by question, so
the machine's drift touches each alike: the way `cited bench auth` and `cited bench audit` compare."""

from __future__ import annotations

import time
from contextlib import ExitStack

from cited.models.embedding import Embedder
from cited.settings import Settings
from evals.live_server import LiveServer


def interleaved(
    configs: dict[str, tuple[Settings, dict[str, str]]], questions: list[str], embedder: Embedder
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, LiveServer]]:
    """Each config's POST /ask times (ms) and retrieval times (ms) over loopback HTTP, and its server
    (stopped by the time this returns); every server is warmed with the first question first."""
    times: dict[str, list[float]] = {name: [] for name in configs}
    retrieve: dict[str, list[float]] = {name: [] for name in configs}
    servers: dict[str, LiveServer] = {}
    with ExitStack() as stack:
        clients = {}
        for name, (settings, headers) in configs.items():
            servers[name] = stack.enter_context(LiveServer(settings, embedder=embedder))
            client = stack.enter_context(servers[name].client())
            client.headers.update(headers)
            client.post("/ask", json={"question": questions[0]}).raise_for_status()  # warm
            clients[name] = client
        names = list(configs)
        for number, question in enumerate(questions):
            turn = number % len(names)
            for name in names[turn:] + names[:turn]:
                started = time.perf_counter()
                response = clients[name].post("/ask", json={"question": question})
                times[name].append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                retrieve[name].append(float(response.json()["timings_ms"].get("retrieve", 0.0)))
        for server in servers.values():
            server.components.audit.flush()
    return times, retrieve, servers
