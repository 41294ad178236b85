"""How `cited serve` writes its log: plain lines (the default) or one JSON object per line.

Both carry the request id (``service/observability.py``) on every line written while a request
runs, uvicorn's access lines included, so a line can be matched to the ``X-Request-ID`` a user
reports. JSON is for log shippers (Loki, Elasticsearch, CloudWatch): each line parses on its own.
"""

from __future__ import annotations

import json
import logging
from typing import Any

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, request id and message (and the trace of an
    exception, as one string)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class _WithRequestId(logging.Filter):
    """Records made before the app installed its record factory (uvicorn's start) get ``-``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return True


def log_config(json_lines: bool) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn and Cited's own loggers."""
    formatter: dict[str, Any] = {"()": JsonLines} if json_lines else {"format": TEXT}
    handler = {"class": "logging.StreamHandler", "formatter": "cited", "filters": ["request_id"],
               "stream": "ext://sys.stdout"}  # fmt: skip
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": _WithRequestId}},
        "formatters": {"cited": formatter},
        "handlers": {"default": handler},
        "loggers": {
            name: {"handlers": ["default"], "level": "INFO", "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "cited")
        },
    }
