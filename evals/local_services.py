"""Servers started for the tests and the two-machine bench, on 127.0.0.1, and stopped after: a `chroma
run`, and PostgreSQL and Redis from Debian's packages in a temporary folder. Never for the product itself.

PostgreSQL will not run as root, so as root its commands run as the ``postgres`` user that
Debian's package creates, in a folder handed to that user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from evals.live_server import free_port


@dataclass(frozen=True)
class ChromaServer:
    """A real `chroma run` on a loopback port, shared by the session; tests isolate themselves
    by collection name."""

    host: str
    port: int

    def settings(self, **overrides: object) -> dict[str, object]:
        return {
            "chroma_host": self.host,
            "chroma_port": self.port,
            "collection": f"t-{uuid.uuid4().hex[:12]}",
            **overrides,
        }

    def env(self, collection: str) -> dict[str, str]:
        return {
            "CITED_CHROMA_HOST": self.host,
            "CITED_CHROMA_PORT": str(self.port),
            "CITED_COLLECTION": collection,
        }


class Polled(Protocol):
    def poll(self) -> int | None: ...


def wait_until_up(url: str, process: Polled, deadline: float, log: Path) -> None:
    """Poll ``url`` until it answers 200; fail with the end of the process's log if it dies or
    the monotonic ``deadline`` passes first."""
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)


@contextmanager
def running_chroma(folder: Path) -> Iterator[tuple[ChromaServer, subprocess.Popen[bytes]]]:
    """A `chroma run` storing under ``folder``, and its process (a test may kill it)."""
    chroma = Path(sys.executable).parent / "chroma"
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "chroma.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(chroma), "run", "--path", str(folder / "store"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v2/heartbeat", process, time.monotonic() + 60, log)
        yield ChromaServer("127.0.0.1", port), process
    finally:
        process.terminate()
        process.wait(timeout=30)


class ServiceMissingError(RuntimeError):
    """A server program is not installed; the message says which Debian package has it."""


def _postgres_bin(program: str) -> str:
    found = sorted(str(p) for p in Path("/usr/lib/postgresql").glob(f"*/bin/{program}"))
    if not found:
        raise ServiceMissingError(
            f"{program} is missing: install Debian's postgresql (apt-get install postgresql)"
        )
    return found[-1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class Postgres:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://cited@127.0.0.1:{self.port}/cited"

    def _ctl(self, *args: str) -> None:
        command = [
            _postgres_bin("pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-l",
            str(self.folder / "log"),
            *args,
        ]
        subprocess.run(_as_postgres(command), check=True, capture_output=True, timeout=60)

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast", "-w")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("start", "-w", "-o", options)


@contextmanager
def running_postgres() -> Iterator[Postgres]:
    """A fresh PostgreSQL cluster with a database ``cited`` of the user ``cited`` (trust, loopback only).

    Its folder is made directly under the system's temporary folder and removed after: pytest's
    own folders are readable by their owner only, where the ``postgres`` user could not reach.
    """
    folder = Path(tempfile.mkdtemp(prefix="cited-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    initdb = [
        _postgres_bin("initdb"),
        "-D",
        str(folder / "data"),
        "-U",
        "cited",
        "--auth=trust",
        "-E",
        "UTF8",
    ]
    server = Postgres(folder, free_port())
    try:
        subprocess.run(_as_postgres(initdb), check=True, capture_output=True, timeout=120)
        server.start()
        createdb = [
            _postgres_bin("createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            "cited",
            "cited",
        ]
        subprocess.run(createdb, check=True, capture_output=True, timeout=60)
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by the test
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Redis:
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"


@contextmanager
def running_redis(folder: Path) -> Iterator[Redis]:
    program = shutil.which("redis-server")
    if program is None:
        raise ServiceMissingError("redis-server is missing: install Debian's redis-server")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", str(folder)]  # fmt: skip
    with (folder / "redis.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"redis-server did not start: {(folder / 'redis.log').read_text()[-1000:]}"
                )
            time.sleep(0.1)
        yield Redis(port)
    finally:
        process.terminate()
        process.wait(timeout=10)
