"""The shared-state database: one SQLAlchemy engine per URL, migrated to the newest schema at first use.

``CITED_DATABASE_URL`` names it (``postgresql+psycopg://…`` for several machines); unset, it is
SQLite in the data directory (``<data dir>/cited.sqlite``), through the same code. The first
connection runs Alembic's migrations, under a lock so two processes starting at once migrate once,
then imports what an older Cited kept in its own SQLite files (``cited/database/legacy_import.py``).

A database that cannot be reached raises :class:`StateUnavailableError` (an HTTP 503 with
``Retry-After``); ``pool_pre_ping`` replaces dead connections, so service comes back by itself
once the database does, without a restart.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from filelock import FileLock
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError

from cited.errors import BusyError
from cited.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed 64-bit number, the same on every machine: PostgreSQL's lock for migrating.
_MIGRATION_LOCK = 7_150_029_001


class StateUnavailableError(BusyError):
    """The database of keys, users and the audit trail cannot be reached right now."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "state_unavailable",
            "Cited's database (keys, users, audit trail) cannot be reached right now; try again "
            f"shortly. ({detail})",
            retry_after_s=5,
        )


class Database:
    """Connections to the shared state; every use is one transaction (:meth:`begin`)."""

    def __init__(self, url: str, legacy_files: tuple[Path, ...] = ()) -> None:
        self.url = url
        self.legacy_files = (
            legacy_files  # what an older Cited kept: keys.sqlite, users.sqlite, feedback.sqlite
        )
        self.sqlite_path = _sqlite_path(url)
        self.engine = _engine(url, self.sqlite_path)
        self._migrated = False
        self._migrating = threading.Lock()

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed on leaving, rolled back on an exception."""
        self.migrate()
        try:
            with self.engine.begin() as connection:
                yield connection
        except DBAPIError as exc:
            if not _unavailable(exc):
                raise  # a statement that is wrong is a bug, not an outage
            raise StateUnavailableError(type(exc.orig).__name__ if exc.orig else "no connection") from exc

    def migrate(self) -> None:
        """Bring the schema to the newest revision (once per process), then import older files."""
        if self._migrated:
            return
        with self._migrating:
            if self._migrated:
                return
            try:
                self._migrate_locked()
            except DBAPIError as exc:
                raise StateUnavailableError(type(exc.orig).__name__ if exc.orig else "no connection") from exc
            self._migrated = True

    def _migrate_locked(self) -> None:
        from cited.database.legacy_import import import_legacy_files

        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            if not self.sqlite_path.exists():  # owner-only from the start: it holds key digests
                os.close(os.open(self.sqlite_path, os.O_CREAT | os.O_WRONLY, 0o600))
            lock = FileLock(str(self.sqlite_path) + ".migrating")
            with lock, self.engine.begin() as connection:
                _upgrade(connection)
        else:
            with self.engine.begin() as connection:
                if self.is_postgres:  # released at the end of this transaction
                    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                _upgrade(connection)
        if self.legacy_files:
            with self.engine.begin() as connection:
                import_legacy_files(connection, self.legacy_files)

    def ping(self) -> None:
        """Raise :class:`StateUnavailableError` unless the database answers."""
        with self.begin() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) and url != prefix else None


def _engine(url: str, sqlite_path: Path | None) -> Engine:
    if sqlite_path is None:
        # pre_ping: a connection the database dropped (a restart) is replaced before it is used.
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_timeout=5)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: object, _: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL: readers (key checks) never wait on the audit writer, and a commit is an append,
        # synced at checkpoints rather than on every write; a crash keeps every committed row
        # but, at worst, the last few commits before it.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    return engine


def _unavailable(exc: DBAPIError) -> bool:
    """The database could not do it, whatever was asked: it is gone, unreachable, locked or out of
    room (``OperationalError``), or the connection broke under the statement."""
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return True
    words = str(exc.orig).lower()
    return any(w in words for w in ("connection", "server closed", "terminating", "could not connect"))


_databases: dict[tuple[str, tuple[Path, ...]], Database] = {}
_databases_lock = threading.Lock()


def database_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return f"sqlite:///{settings.data_dir / 'cited.sqlite'}"


def open_database(settings: Settings) -> Database:
    """The process's one :class:`Database` for these settings (engines pool connections: share them)."""
    url = database_url(settings)
    legacy = (settings.keys_path, settings.users_path, settings.feedback_path)
    with _databases_lock:
        if (url, legacy) not in _databases:
            _databases[url, legacy] = Database(url, legacy)
        return _databases[url, legacy]
