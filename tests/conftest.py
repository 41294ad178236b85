"""Shared fixtures. Everything is real: the packaged MiniLM, embedded Chroma in temp folders, files on
disk, and a uvicorn server on 127.0.0.1 reached over HTTP."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import cited  # noqa: F401  (offline environment before any model library loads)
from cited.models.embedding import Embedder, configured_embedder
from cited.settings import Settings
from cited.store.chunk_store import ChunkStore, open_store
from cited.store.chunks import Chunk
from evals.live_server import LiveServer
from evals.local_services import (
    ChromaServer,
    Postgres,
    Redis,
    running_chroma,
    running_postgres,
    running_redis,
)
from ingest.sync import Ingestor

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
CEO_DOC = "Alibaba-CEO-Wu-Yongming-on-creation-over-preservation.txt"
HR_DOC = "Alibaba-HR-3C-strategy-during-the-crisis.txt"

# A document whose text is markup: the page must show it as text and never run it.
HOSTILE_DOC = "security-review-notes.txt"
HOSTILE_TEXT = (
    "Security review notes\n\n"
    "The quarterly security review found that the visitor log printed the string "
    "<script>window.__citedPwned = true</script> without escaping it. "
    'The reviewers also found <img src="x" onerror="window.__citedPwned = true"> in the same log.\n\n'
    "The visitor log is now rotated every week by the facilities team.\n"
)


def run_cited(
    *args: str, cwd: Path, stdin: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The `cited` command as a user runs it: a real process, its output and its exit status."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        env=env,
        timeout=600,
    )


@dataclass(frozen=True)
class CommandRun:
    returncode: int
    stdout: str
    stderr: str


def invoke_cited(
    *args: str, cwd: Path = ROOT, stdin: str | None = None, env: Mapping[str, str | None] | None = None
) -> CommandRun:
    """The `cited` command run in this process (Typer's CliRunner): the same code, output and exit
    codes as the real process, without loading MiniLM again (the process keeps one). Tests that need
    a real process (a lock held by another one, a kill, the installed console script) use
    ``run_cited``.

    ``env`` replaces the environment for the call; the settings are read afresh for it."""
    from typer.testing import CliRunner

    from cited.settings import get_settings
    from cli.main import app

    before = Path.cwd()
    get_settings.cache_clear()  # the CLI reads the settings once per process: read them for this call
    os.chdir(cwd)  # relative defaults (./corpus, ./data, reports/) resolve as in the real process
    try:
        result = CliRunner().invoke(app, list(args), input=stdin, env=env, catch_exceptions=False)
    finally:
        os.chdir(before)
        get_settings.cache_clear()
    return CommandRun(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The process's one MiniLM (``make_embedder`` keeps one per build and precision), loaded once for the
    session: every in-process app, ingest and command of the tests uses this same instance."""
    return configured_embedder(Settings())


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    with running_chroma(tmp_path_factory.mktemp("chroma")) as (server, _):
        yield server


@pytest.fixture
def backend() -> str:
    """Which store the settings of `make_settings` use; test modules that run against both
    override it with a parametrized fixture of the same name."""
    return "embedded"


@pytest.fixture
def make_settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Callable[..., Settings]:
    server: ChromaServer | None = (
        request.getfixturevalue("chroma_server") if backend == "chroma-server" else None
    )
    collection: dict[str, object] = server.settings() if server else {}

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {"data_dir": tmp_path / "data", "corpus_dir": tmp_path / "corpus"}
        values.update(collection)
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the project's corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def ingestor(make_settings: Callable[..., Settings], embedder: Embedder) -> Ingestor:
    settings = make_settings()
    return Ingestor(settings, embedder, open_store(settings))


def stored_chunks(store: ChunkStore, source: str | None = None) -> list[Chunk]:
    """Every stored chunk (hidden ones too), or those of one source, as the store reads them."""
    chunks = [Chunk.from_record(i, text, meta) for i, text, meta in store.texts()]
    return [c for c in chunks if source is None or c.source == source]


def chunk_texts(store: ChunkStore, source: str | None = None) -> list[str]:
    return [c.text for c in stored_chunks(store, source)]


@pytest.fixture(scope="session")
def served_corpus(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The project corpus plus the hostile document, ingested once for the HTTP and page tests."""
    root = tmp_path_factory.mktemp("served")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / HOSTILE_DOC).write_text(HOSTILE_TEXT, encoding="utf-8")
    settings = Settings(data_dir=root / "data", corpus_dir=corpus)
    report = Ingestor(settings, embedder, open_store(settings)).run(corpus)
    assert report.ok and len(report.added) == 3
    return root


@pytest.fixture(scope="session")
def server(served_corpus: Path) -> Iterator[LiveServer]:
    # Many tests share this server from one address; the rate limit has its own test (test_hardening).
    settings = Settings(
        data_dir=served_corpus / "data", corpus_dir=served_corpus / "corpus", rate_limit="100000/minute"
    )
    with LiveServer(settings) as running:
        yield running


@pytest.fixture(scope="session")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture(scope="session")
def local_llm_server(
    served_corpus: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[LiveServer]:
    """A server answering with the packaged SmolLM2, on a copy of the served store. Shared by the
    API and page tests of the local model, which ask the same question: llama.cpp keeps the prompt
    it last evaluated, so the second asking only pays for the reply."""
    root = tmp_path_factory.mktemp("local-llm")
    shutil.copytree(served_corpus / "data", root / "data")
    settings = Settings(
        data_dir=root / "data", corpus_dir=served_corpus / "corpus", rate_limit="100000/minute",
        llm="local", llm_max_tokens=60, llm_threads=2,
    )  # fmt: skip
    with LiveServer(settings, embedder=embedder) as running:
        yield running


# The heaviest test files first (seconds of all their tests with two workers, from `--durations=0`):
# `make test` gives each of its two xdist workers whole files, so starting with the long ones lets the
# short ones fill in at the end and both workers finish together. Order within a file is unchanged.
HEAVIEST_FIRST = (
    "test_ingest",  # 63 s
    "test_scale_out",  # 59 s
    "test_ui",  # 49 s
    "test_slides_scans_tables",  # 37 s
    "test_eval",  # 31 s
    "test_bench",  # 30 s
    "test_crash",  # 28 s
    "test_hardening",  # 26 s
    "test_answers_bench",  # 20 s
    "test_operations",  # 19 s
    "test_format_versions",  # 17 s
    "test_retrieval",  # 17 s
    "test_sso",  # 16 s
    "test_api",  # 16 s
    "test_offline",  # 15 s
    "test_generation",  # 15 s
    "test_access",  # 9 s
    "test_documents_api",  # 8 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(HEAVIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server
