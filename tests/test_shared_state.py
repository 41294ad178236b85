"""State shared across machines: keys, users, feedback and the audit trail in PostgreSQL (or SQLite by
default), the ingest lock across hosts, the rate limit in Redis. Two `cited serve` machines on one
Chroma server, PostgreSQL and Redis, with a database outage: ``tests/test_scale_out.py``.

Every server is real: Debian's PostgreSQL and Redis (``evals/local_services.py``), `chroma run`,
`cited serve` processes, uvicorn, HTTP.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from cited.access.keys import KeyStore
from cited.access.users import UserStore
from cited.database.engine import Database, StateUnavailableError, open_database
from cited.database.ingest_lock import IngestLockTimeoutError, ingest_lock
from cited.settings import Settings
from evals.local_services import Postgres, Redis
from service.feedback import FeedbackStore
from service.rate_limit import RateLimit, RateLimitedError

QUESTION = "Which platform hosted the online karaoke?"
OLD_KEY = "cited_0a1b2c3d_" + "s" * 43


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
