"""State shared across machines: keys, users, feedback and the audit trail in PostgreSQL (or SQLite by
default), the ingest lock across hosts, the rate limit in Redis, a database that goes down and comes
back, and two `cited serve` machines behind one Chroma server, one PostgreSQL and one Redis.

Every server is real: Debian's PostgreSQL and Redis (``evals/local_services.py``), `chroma run`,
`cited serve` processes, uvicorn, HTTP.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from cited.access.keys import KeyStore
from cited.access.users import UserStore
from cited.database.engine import Database, StateUnavailableError, open_database
from cited.database.ingest_lock import IngestLockTimeoutError, ingest_lock
from cited.models.embedding import Embedder
from cited.settings import Settings
from cited.store.chunk_store import open_store
from evals.local_services import ChromaServer, Postgres, Redis, running_postgres, running_redis
from ingest.sync import Ingestor
from service.feedback import FeedbackStore
from service.rate_limit import RateLimit, RateLimitedError
from tests.conftest import CORPUS
from tests.documents import BOARD_DOC
from tests.test_scale_out import workers

QUESTION = "Which platform hosted the online karaoke?"
OLD_KEY = "cited_0a1b2c3d_" + "s" * 43


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


def write_old_files(data: Path) -> None:
    """keys.sqlite, users.sqlite and feedback.sqlite as the release before the database wrote them."""
    data.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(data / "keys.sqlite")) as db, db:
        db.execute("CREATE TABLE keys (id TEXT PRIMARY KEY, name, digest, groups, scopes, created, revoked)")
        db.execute(
            "INSERT INTO keys VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("0a1b2c3d", "dashboard", hashlib.sha256(OLD_KEY.encode()).hexdigest(), '["board"]', '["ask"]',
             "2026-11-01T00:00:00+00:00", None),
        )  # fmt: skip
    with closing(sqlite3.connect(data / "users.sqlite")) as db, db:
        db.execute("CREATE TABLE users (name TEXT PRIMARY KEY, salt, digest, groups, created, can_upload)")
        db.execute(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)",
            ("mei", "00" * 16, "ab" * 64, '["board"]', "2026-11-01T00:00:00+00:00", 1),
        )
    with closing(sqlite3.connect(data / "feedback.sqlite")) as db, db:
        db.execute(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY, created, updated, session, turn, user, rating, "
            "comment, question, answer, abstained, citations, documents, UNIQUE (session, turn))"
        )
        db.execute(
            "INSERT INTO feedback VALUES (1, ?, ?, 's1', 1, 'mei', 'down', 'wrong', 'Q?', 'A.', 0, ?, NULL)",
            ("2026-11-02T00:00:00+00:00", "2026-11-02T00:00:00+00:00", json.dumps([{"id": 1, "quote": "q"}])),
        )


def assert_old_data_kept(database: Database, data: Path) -> None:
    key = KeyStore(database).verify(OLD_KEY)
    assert key is not None and key.groups == ("board",) and key.scopes == ("ask",)
    (user,) = UserStore(database).users()
    assert user.name == "mei" and user.groups == ("board",) and user.can_upload
    (rated,) = FeedbackStore(database).entries()
    assert (rated.session, rated.rating, rated.comment, rated.citations) == ("s1", "down", "wrong", [
        {"id": 1, "quote": "q"}
    ])  # fmt: skip
    for name in ("keys.sqlite", "users.sqlite", "feedback.sqlite"):
        assert (data / f"{name}.imported").is_file() and not (data / name).exists()


def test_an_older_releases_sqlite_files_move_into_the_database_with_nothing_lost(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_old_files(data)
    settings = Settings(data_dir=data)
    assert_old_data_kept(open_database(settings), data)
    fresh = Database(f"sqlite:///{data / 'cited.sqlite'}", (settings.keys_path,))  # a restart
    assert [k.id for k in KeyStore(fresh).all()] == ["0a1b2c3d"]  # imported once only
    assert (data / "cited.sqlite").stat().st_mode & 0o077 == 0  # digests: readable by the owner only


@pytest.mark.processes
def test_the_same_stores_run_on_postgresql_and_take_the_old_files_too(
    tmp_path: Path, postgres: Postgres
) -> None:
    data = tmp_path / "data"
    write_old_files(data)
    settings = Settings(data_dir=data, database_url=postgres.url)
    database = open_database(settings)
    assert database.is_postgres
    assert_old_data_kept(database, data)
    KeyStore(database).revoke("0a1b2c3d")
    other_machine = Database(postgres.url)  # another process, another data directory
    assert KeyStore(other_machine).get("0a1b2c3d").revoked  # type: ignore[union-attr]


@pytest.mark.processes
def test_two_hosts_cannot_ingest_into_one_store_at_once(tmp_path: Path, postgres: Postgres) -> None:
    shared = {"database_url": postgres.url, "chroma_host": "10.0.0.9", "collection": "shared-docs"}
    host_a = Settings(data_dir=tmp_path / "a", ingest_lock_seconds=0.5, **shared)  # type: ignore[arg-type]
    host_b = Settings(data_dir=tmp_path / "b", ingest_lock_seconds=0.5, **shared)  # type: ignore[arg-type]
    elsewhere = Settings(
        data_dir=tmp_path / "c", ingest_lock_seconds=0.5, **{**shared, "collection": "other"}
    )  # type: ignore[arg-type]
    held_elsewhere = pytest.raises(
        IngestLockTimeoutError, match=re.escape("chroma://10.0.0.9:8001/shared-docs")
    )
    with ingest_lock(host_a):
        with held_elsewhere, ingest_lock(host_b):
            pass
        with ingest_lock(elsewhere):  # another store is not held up
            pass
    with ingest_lock(host_b):  # released: the next one goes
        pass


@pytest.mark.processes
def test_the_rate_limit_in_redis_holds_across_workers(redis: Redis) -> None:
    first, second = RateLimit("3/minute", redis.url), RateLimit("3/minute", redis.url)
    first.hit("key:shared")
    second.hit("key:shared")
    first.hit("key:shared")
    with pytest.raises(RateLimitedError) as refused:
        second.hit("key:shared")
    assert 1 <= refused.value.retry_after_s <= 60
    second.hit("key:someone-else")  # counted per caller


def test_state_unavailable_names_the_database_and_never_a_stack() -> None:
    unreachable = Database("postgresql+psycopg://cited@127.0.0.1:9/cited?connect_timeout=2")
    with pytest.raises(StateUnavailableError, match="cannot be reached"):
        KeyStore(unreachable).all()


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
        answered = httpx.post(f"{b.url}/ask", json={"question": QUESTION}, headers=staff, timeout=60)
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
        refused = httpx.post(f"{b.url}/ask", json={"question": QUESTION}, headers=staff, timeout=60)
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
