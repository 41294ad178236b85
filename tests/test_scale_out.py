"""Serving that scales out and keeps answering while the documents change, and two machines that
share one Chroma server, one PostgreSQL and one Redis.

Everything is real: a `chroma run` server on loopback, `cited serve` worker processes, `cited
ingest` processes, uploads over HTTP. The consistency checks ask with ``include_retrieved`` and
fail if any answer shows two versions of one document at once, or any request fails.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from cited.access.keys import KeyStore
from cited.database.engine import open_database
from cited.models.embedding import Embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from evals.live_server import LiveServer, free_port
from evals.local_services import ChromaServer, Postgres, Redis, wait_until_up
from ingest.sync import Ingestor
from tests.conftest import CEO_DOC, CORPUS, ROOT, invoke_cited
from tests.documents import BOARD_DOC
from tests.forked_cli import ForkedCommand

pytestmark = pytest.mark.processes

QUESTION = "When did the Cainiao warehouse in Wuhan reopen?"
KARAOKE_QUESTION = "Which platform hosted the online karaoke?"


def release_note(version: int) -> str:
    """A document of several passages, every one of which names its version."""
    parts = [f"Release {version} notes\n"]
    for section in range(6):
        parts.append(
            f"In release {version}, section {section} says the Cainiao warehouse in Wuhan reopened "
            f"after the lockdown, and release {version} moved the freight schedule of route {section}. "
            + " ".join(f"Release {version} paragraph {section} line {n} covers logistics." for n in range(6))
        )
    return "\n\n".join(parts) + "\n"


class Worker:
    def __init__(self, url: str, process: ForkedCommand, data_dir: Path, log: Path) -> None:
        self.url = url
        self.process = process
        self.data_dir = data_dir
        self.log = log


@contextmanager
def workers(
    env: dict[str, str], data_dirs: list[Path], log_dir: Path, own_env: list[dict[str, str]] | None = None
) -> Iterator[list[Worker]]:
    """`cited serve` processes, each with its own data directory, all on the same store (forked
    with the libraries imported: ``tests/forked_cli.py``); ``own_env`` adds variables per worker."""
    started: list[Worker] = []
    try:
        for number, data_dir in enumerate(data_dirs):
            port = free_port()
            log = log_dir / f"worker-{number}.log"
            args = ["serve", "--port", str(port), "--data-dir", str(data_dir)]
            extra = own_env[number] if own_env else {}
            process = ForkedCommand(args, {**os.environ, **env, **extra}, ROOT, log)
            started.append(Worker(f"http://127.0.0.1:{port}", process, data_dir, log))
        deadline = time.monotonic() + 180
        for worker in started:
            wait_until_up(f"{worker.url}/health", worker.process, deadline, worker.log)
        yield started
    finally:
        for worker in started:
            worker.process.terminate()
        for worker in started:
            worker.process.wait(timeout=30)


def ask(url: str, question: str) -> dict[str, object]:
    response = httpx.post(
        f"{url}/ask", json={"question": question, "top_k": 20, "include_retrieved": True}, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()


def versions_seen(answer: dict[str, object]) -> dict[str, set[str]]:
    """source -> document ids among the retrieved passages (one id: one version)."""
    seen: dict[str, set[str]] = {}
    for passage in answer["retrieved"]:  # type: ignore[union-attr]
        seen.setdefault(passage["source"], set()).add(passage["document_id"])  # type: ignore[index]
    return seen


def release_numbers(answer: dict[str, object], source: str) -> set[int]:
    """The release numbers named by the retrieved passages of ``source``."""
    import re

    numbers: set[int] = set()
    for passage in answer["retrieved"]:  # type: ignore[union-attr]
        if passage["source"] == source:  # type: ignore[index]
            numbers.update(int(n) for n in re.findall(r"[Rr]elease (\d+)", passage["text"]))  # type: ignore[index]
    return numbers


class Hammer:
    """Threads asking ``question`` of every URL until stopped; records failures and mixed versions."""

    def __init__(
        self, urls: list[str], question: str, check: Callable[[dict[str, object]], str | None]
    ) -> None:
        self.urls = urls
        self.question = question
        self.check = check
        self.answers = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, args=(url,)) for url in urls]

    def _loop(self, url: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            while not self._stop.is_set():
                try:
                    response = client.post(
                        "/ask", json={"question": self.question, "top_k": 20, "include_retrieved": True}
                    )
                except httpx.HTTPError as exc:
                    self.failures.append(f"{url}: {exc!r}")
                    continue
                if response.status_code != 200:
                    self.failures.append(f"{url}: {response.status_code} {response.text[:200]}")
                    continue
                problem = self.check(response.json())
                if problem:
                    self.failures.append(f"{url}: {problem}")
                self.answers += 1

    def wait_for(self, more: int, timeout: float = 60) -> None:
        """Block until ``more`` further answers have come back."""
        target = self.answers + more
        deadline = time.monotonic() + timeout
        while self.answers < target:
            assert time.monotonic() < deadline, f"only {self.answers} answers; failures: {self.failures[:3]}"
            time.sleep(0.05)

    def __enter__(self) -> Hammer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)


def one_version_of(source: str) -> Callable[[dict[str, object]], str | None]:
    def check(answer: dict[str, object]) -> str | None:
        mixed = {s: ids for s, ids in versions_seen(answer).items() if len(ids) > 1}
        if mixed:
            return f"two versions at once: {mixed}"
        numbers = release_numbers(answer, source)
        if len(numbers) > 1:
            return f"passages of releases {sorted(numbers)} of {source} together"
        return None

    return check


def bm25_ids(data_dir: Path) -> set[str]:
    """The chunk ids of a worker's current BM25 index."""
    import json

    pointer = data_dir / "bm25" / "CURRENT"
    if not pointer.exists():
        return set()
    ids = data_dir / "bm25" / pointer.read_text().strip() / "ids.json"
    return set(json.loads(ids.read_text())) if ids.exists() else set()


def test_queries_never_fail_or_see_half_a_document_while_uploads_replace_it(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Embedded store, one server: each upload replaces a document of several passages while two
    threads ask."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, rate_limit="100000/minute")
    Ingestor(settings, embedder, open_store(settings)).run(corpus)
    with LiveServer(settings) as server, server.client() as api:
        first = api.post("/documents", files={"file": ("notes.txt", release_note(0).encode())})
        assert first.status_code == 201 and first.json()["chunks"] >= 3, first.text
        check = one_version_of("uploads/notes.txt")
        with Hammer([server.url, server.url], "What did the release move?", check) as hammer:
            for version in range(1, 7):
                sent = api.post("/documents", files={"file": ("notes.txt", release_note(version).encode())})
                assert sent.status_code == 201 and sent.json()["status"] == "replaced", sent.text
                hammer.wait_for(3)  # questions keep coming between (and during) the uploads
        assert hammer.failures == [], hammer.failures[:5]
        assert hammer.answers >= 18
        final = ask(server.url, "What did release 6 move?")
        assert release_numbers(final, "uploads/notes.txt") == {6}


def test_two_workers_on_one_chroma_server_stay_consistent(
    tmp_path: Path, chroma_server: ChromaServer, embedder: Embedder
) -> None:
    collection = chroma_server.settings()["collection"]
    # API-only workers: this test asks over HTTP, and Gradio's import would slow both starts.
    env = {**chroma_server.env(str(collection)), "CITED_RATE_LIMIT": "100000/minute", "CITED_UI": "false"}
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "release-notes.txt").write_text(release_note(0), encoding="utf-8")
    for n in range(12):
        (corpus / f"filler-{n}.txt").write_text(
            release_note(100 + n).replace("Cainiao", "Hema"), encoding="utf-8"
        )

    # The first ingest runs in this process (the workers and the later ingest are real processes).
    first = Settings(data_dir=tmp_path / "ingest-data", **chroma_server.settings(collection=collection))  # type: ignore[arg-type]
    assert Ingestor(first, embedder, open_store(first)).run(corpus).ok

    data_dirs = [tmp_path / "worker-a", tmp_path / "worker-b"]  # separate: each rebuilds its own BM25
    with workers({**env, "CITED_CORPUS_DIR": str(corpus)}, data_dirs, tmp_path) as (a, b):
        question = "What did release 0 move?"
        answer_a, answer_b = ask(a.url, question), ask(b.url, question)
        assert answer_a["answer"] == answer_b["answer"] and answer_a["citations"] == answer_b["citations"]

        # An ingest process changes the store under both workers while they answer.
        (corpus / "release-notes.txt").write_text(release_note(1), encoding="utf-8")
        (corpus / CEO_DOC).unlink()
        for n in range(12, 20):
            (corpus / f"filler-{n}.txt").write_text(
                release_note(100 + n).replace("Cainiao", "Hema"), encoding="utf-8"
            )
        with Hammer(
            [a.url, b.url], "What did the release move?", one_version_of("release-notes.txt")
        ) as hammer:
            small_groups = {**os.environ, **env, "CITED_WRITE_BATCH_CHUNKS": "8"}
            args = ["ingest", str(corpus), "--data-dir", str(tmp_path / "ingest-data"), "--no-progress"]
            changed = ForkedCommand(args, small_groups, ROOT, tmp_path / "ingest.log")
            _, output = changed.communicate(timeout=300)
            assert changed.returncode == 0, output
            hammer.wait_for(4)
        assert hammer.failures == [], hammer.failures[:5]
        assert hammer.answers > 10

        # Both follow: the new version, the new documents, and the removed one gone, in BM25 too.
        for worker in (a, b):
            answer = ask(worker.url, "What did release 1 move?")
            assert release_numbers(answer, "release-notes.txt") == {1}
            listed = {d["source"] for d in httpx.get(f"{worker.url}/documents").json()["documents"]}
            assert "filler-19.txt" in listed and CEO_DOC not in listed
        # Worker B never wrote the store, yet its own BM25 index now lists exactly the store's chunks.
        store = open_store(Settings(**chroma_server.settings(collection=collection)))  # type: ignore[arg-type]
        expected = {chunk_id for chunk_id, _ in store.inventory()}
        deadline = time.monotonic() + 60
        while bm25_ids(b.data_dir) != expected:
            assert time.monotonic() < deadline, "worker B's BM25 never caught up with the store"
            time.sleep(0.5)

        # An upload through one worker is answered by the other.
        note = "Logistics note\n\nThe Cainiao warehouse in Wuhan reopened on 14 March with 420 staff.\n"
        sent = httpx.post(f"{a.url}/documents", files={"file": ("logistics.txt", note.encode())}, timeout=120)
        assert sent.status_code == 201, sent.text
        deadline = time.monotonic() + 60
        while "14 March" not in str(ask(b.url, QUESTION)["answer"]):
            assert time.monotonic() < deadline, "worker B never saw the upload"
            time.sleep(0.5)
        assert (corpus / "uploads" / "logistics.txt").is_file()
        gone = httpx.delete(f"{b.url}/documents/{sent.json()['document_id']}", timeout=120)
        assert gone.status_code == 200, gone.text
        listed = {d["source"] for d in httpx.get(f"{a.url}/documents").json()["documents"]}
        assert "uploads/logistics.txt" not in listed
        assert "14 March" not in str(ask(a.url, QUESTION)["answer"])


def test_serve_refuses_several_workers_on_an_embedded_store(tmp_path: Path) -> None:
    result = invoke_cited("serve", "--workers", "2", "--data-dir", str(tmp_path / "data"), cwd=ROOT)
    assert result.returncode == 2 and "CITED_CHROMA_HOST" in result.stderr


def test_a_reader_sees_one_version_while_an_ingest_is_stopped_mid_publish(
    tmp_path: Path, chroma_server: ChromaServer, embedder: Embedder
) -> None:
    """Freeze an ingest between its steps (by killing it there) and ask: both versions of the
    document are in the store at those moments, and the reader must see exactly one."""
    server_settings = chroma_server.settings()
    env = {**os.environ, **chroma_server.env(str(server_settings["collection"]))}
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "release-notes.txt").write_text(release_note(0), encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, rate_limit="100000/minute",
                        **server_settings)  # type: ignore[arg-type]  # fmt: skip
    Ingestor(settings, embedder, open_store(settings)).run(corpus)
    (corpus / "release-notes.txt").write_text(release_note(1), encoding="utf-8")
    question = "What did the release move?"

    def ingest(crash_at: str | None) -> int | None:
        extra = {"CITED_CRASH_AT": crash_at} if crash_at else {}
        args = ("ingest", str(corpus), "--data-dir", str(settings.data_dir), "--no-progress")
        # A real process, forked with the libraries already imported (tests/forked_cli.py).
        process = ForkedCommand(args, {**env, **extra}, ROOT, tmp_path / f"ingest-{crash_at}.log")
        process.communicate(timeout=300)
        return process.returncode

    with LiveServer(settings) as server:
        # Killed after writing release 1, before publishing it: both are stored, 1 is hidden.
        assert ingest("written:1") == -9
        store = open_store(settings)
        assert store.state().hidden and len(store.documents()) == 3
        assert release_numbers(ask(server.url, question), "release-notes.txt") == {0}
        # Killed after publishing release 1, before deleting release 0: 0 is hidden now.
        assert ingest("published:1") == -9
        assert store.state().hidden
        assert release_numbers(ask(server.url, question), "release-notes.txt") == {1}
        # The run that finishes the job may be in this process: the kills above are the point.
        assert Ingestor(settings, embedder, store).run(corpus).ok
        assert not store.state().hidden
        assert release_numbers(ask(server.url, question), "release-notes.txt") == {1}


@pytest.mark.processes
def test_two_machines_share_keys_documents_the_rate_limit_the_audit_trail_and_a_database_outage(
    tmp_path: Path, chroma_server: ChromaServer, postgres: Postgres, redis: Redis, embedder: Embedder
) -> None:
    collection = str(chroma_server.settings()["collection"])
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "board").mkdir()
    (corpus / "access.yaml").write_text('paths:\n  "board/*": [board]\n', encoding="utf-8")
    (corpus / BOARD_DOC).write_text(
        "Project Heron board paper\n\nThe board approved the purchase of Lumenfield Robotics on March 3rd.\n",
        encoding="utf-8",
    )
    first = Settings(data_dir=tmp_path / "ingest-data", **chroma_server.settings(collection=collection))  # type: ignore[arg-type]
    assert Ingestor(first, embedder, open_store(first)).run(corpus).ok

    env = {
        **chroma_server.env(collection),
        "CITED_AUTH": "true",
        "CITED_DATABASE_URL": postgres.url,
        "CITED_RATE_LIMIT": "40/minute",
        "CITED_RATE_LIMIT_STORAGE": redis.url,
        "CITED_UI": "false",
        "CITED_CORPUS_DIR": str(corpus),
    }
    data_dirs = [tmp_path / "machine-a", tmp_path / "machine-b"]
    names = [{"CITED_MACHINE_NAME": d.name} for d in data_dirs]
    with workers(env, data_dirs, tmp_path, names) as (a, b):
        # A key made through one machine's command line works on the other at once.
        keys_a = KeyStore(open_database(Settings(data_dir=data_dirs[0], database_url=postgres.url)))
        record, key = keys_a.add("staff-tool", ["everyone"], ["ask", "ingest"])
        admin = keys_a.add("auditor", ["everyone"], ["admin"])[1]
        staff = {"Authorization": f"Bearer {key}"}
        answered = httpx.post(f"{b.url}/ask", json={"question": KARAOKE_QUESTION}, headers=staff, timeout=60)
        assert answered.status_code == 200 and answered.json()["outcome"] == "answered"
        # 0 passages of the board's document reach a staff key on either machine.
        for machine in (a, b):
            seen = httpx.post(
                f"{machine.url}/ask", json={"question": "What did the board approve about Lumenfield?",
                                            "include_retrieved": True}, headers=staff, timeout=60,
            ).json()  # fmt: skip
            shown = [c["source"] for c in seen["citations"]] + [r["source"] for r in seen["retrieved"] or []]
            assert BOARD_DOC not in shown and "Lumenfield" not in seen["answer"]

        # A document uploaded through A is answered by B within 10 s.
        note = b"Depot note\n\nThe Qingdao cold-chain depot opened on 9 May with 64 loading bays.\n"
        uploaded = httpx.post(f"{a.url}/documents", files={"file": ("depot-note.txt", note)}, headers=staff,
                              timeout=120)  # fmt: skip
        assert uploaded.status_code == 201, uploaded.text
        started, found = time.monotonic(), False
        while time.monotonic() - started < 10 and not found:
            reply = httpx.post(f"{b.url}/ask", json={"question": "When did the Qingdao depot open?"},
                               headers=staff, timeout=60).json()  # fmt: skip
            found = "9 May" in reply["answer"]
            time.sleep(0.2)
        assert found, "machine B did not answer from the document uploaded through A within 10 s"

        # A key revoked on A is refused by B at once.
        keys_a.revoke(record.id)
        refused = httpx.post(f"{b.url}/ask", json={"question": KARAOKE_QUESTION}, headers=staff, timeout=60)
        assert refused.status_code == 401 and refused.json()["error"] == "revoked_key"

        # One limit across both machines: 40 a minute in all, whichever machine counts them.
        limited = {"Authorization": f"Bearer {keys_a.add('busy-tool', ['everyone'], ['ask'])[1]}"}
        codes = [
            httpx.get(f"{(a, b)[n % 2].url}/documents", headers=limited, timeout=60).status_code
            for n in range(44)
        ]
        assert codes.count(200) == 40 and codes[40:] == [429] * 4

        # The audit trail has both machines' questions.
        admin_auth = {"Authorization": f"Bearer {admin}"}
        deadline, trail = time.monotonic() + 10, []
        while time.monotonic() < deadline and {r["machine"] for r in trail} < {"machine-a", "machine-b"}:
            time.sleep(0.1)  # each machine's writer empties its queue within moments
            audited = httpx.get(f"{a.url}/audit", params={"user": f"key:{record.id}"}, headers=admin_auth)
            trail = audited.json()["records"]
        assert {r["machine"] for r in trail} >= {"machine-a", "machine-b"}
        assert all(r["channel"] == "api" and r["caller"] == f"key:{record.id}" for r in trail)

        # The database goes down under both machines: calls that need it get a JSON 503, nobody is
        # let in, and both serve again once it is back, without a restart.
        postgres.stop()
        try:
            for machine in (a, b):
                down = httpx.get(f"{machine.url}/audit", headers=admin_auth, timeout=60)
                assert down.status_code == 503 and down.json()["error"] == "state_unavailable"
                assert down.headers["retry-after"] == "5" and "cannot be reached" in down.json()["message"]
                stranger = httpx.get(
                    f"{machine.url}/documents", headers={"Authorization": "Bearer cited_x_y"}
                )
                assert stranger.status_code in (401, 503)
        finally:
            postgres.start()
        for machine in (a, b):
            assert httpx.get(f"{machine.url}/audit", headers=admin_auth, timeout=60).status_code == 200
