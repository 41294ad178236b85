"""PostgreSQL and Redis servers from Debian's packages, started in a temporary folder on 127.0.0.1 and
stopped after: for the tests and the two-machine bench, never for the product itself.

PostgreSQL will not run as root, so as root its commands run as the ``postgres`` user that
Debian's package creates, in a folder handed to that user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class ServiceMissingError(RuntimeError):
    """A server program is not installed; the message says which Debian package has it."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
