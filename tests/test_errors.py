"""One error style: the core raises domain errors with no HTTP in them; `service/errors.py` alone maps
each kind to a status and headers, `cli/errors.py` alone to an exit code."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

from cited.errors import BusyError, CitedError, NotSignedInError
from cli.errors import exit_code_of
from service.errors import headers_of, status_of

ROOT = Path(__file__).resolve().parent.parent
CORE = ("cited", "ingest", "service.answering")


def every_error_kind() -> list[type[CitedError]]:
    for package in (*CORE, "service"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            importlib.import_module(info.name)
    found, todo = [], [CitedError]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo.extend(kind.__subclasses__())
    return found


def test_the_core_imports_nothing_of_http() -> None:
    for package in CORE:
        folder = ROOT / package.replace(".", "/")
        for path in folder.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            imported = {
                (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
                for node in ast.walk(tree)
                if isinstance(node, ast.Import | ast.ImportFrom)
                for alias in node.names
            }
            http = {name for name in imported if name.split(".")[0] in ("fastapi", "starlette")}
            assert http == set(), f"{path.relative_to(ROOT)} imports {http}"


@pytest.mark.parametrize("kind", every_error_kind(), ids=lambda kind: kind.__name__)
def test_every_domain_error_kind_has_a_status_and_an_exit_code_and_carries_no_http(
    kind: type[CitedError],
) -> None:
    error = kind.__new__(kind)  # an instance without its arguments: the mapping reads only the class
    assert kind is CitedError or status_of(error) != 400, f"{kind.__name__} maps to no status"
    assert 400 <= status_of(error) <= 599
    assert exit_code_of(error) in (2, 69, 75)
    assert not {"status", "headers"} & set(vars(kind)), f"{kind.__name__} carries HTTP"


def test_the_headers_tell_the_client_what_to_do_next() -> None:
    assert headers_of(BusyError("ingest_busy", "busy", 5)) == {"Retry-After": "5"}
    assert headers_of(NotSignedInError("missing_key", "send a key")) == {"WWW-Authenticate": "Bearer"}
    assert status_of(BusyError("ingest_busy", "busy", 5)) == 503
