"""`cited serve`: the API and the page."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer

from cli.errors import CommandError
from cli.options import DataDirOption, settings_for


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: CITED_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: CITED_PORT or 8000).")] = None,
    data_dir: DataDirOption = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (more than 1 needs a Chroma server).")
    ] = 1,
) -> None:
    """Serve the API (/ask, /documents, /health, /docs) and the page (/ui)."""
    import os

    import uvicorn

    from cli.log_format import log_config
    from service.app import create_app

    settings = settings_for(data_dir)
    if workers > 1 and settings.chroma_host is None:
        raise CommandError(
            "several workers cannot share the embedded store (each would keep its own copy of "
            "the vector index). Run a Chroma server (`chroma run --path DIR --port 8001`) and set "
            "CITED_CHROMA_HOST=127.0.0.1 (docs/operations.md, 'Scaling out')."
        )
    settings = settings.model_copy(update={"host": host or settings.host, "port": port or settings.port})
    if not is_loopback(settings.host) and not settings.auth:
        raise CommandError(
            f"refusing to serve on {settings.host} without authentication: anyone who can reach "
            "it would read every document. Set CITED_AUTH=true and create keys with `cited keys add` "
            "(and page users with `cited users add`), or bind to 127.0.0.1."
        )
    typer.echo(f"Cited on http://{settings.host}:{settings.port}  (page: /ui, API docs: /docs)")
    logs = log_config(settings.log_format == "json")
    if workers == 1:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=logs)
        return
    # Each worker process builds its own app from the environment, so the options go there.
    os.environ["CITED_DATA_DIR"] = str(settings.data_dir)
    # /metrics sums every worker's figures from files in this folder (prometheus-client's
    # multiprocess mode); emptied first, so a restart does not count the last run's requests.
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        import shutil

        folder = settings.data_dir / "prometheus"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=logs,
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
