"""The tables of Cited's shared state: API keys, page users, sign-in sessions, feedback, the audit trail.

One SQLAlchemy ``MetaData`` for every backend. Migrations (``cited/database/migrations/``) create and
change these tables; this module is what the code reads and writes through. Lists (groups, scopes,
cited passages) are JSON columns: they are read whole, never searched inside by the database.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

keys = Table(
    "keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("groups", JSON, nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created", String(32), nullable=False),
    Column("revoked", String(32)),
)

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("salt", String(32), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("groups", JSON, nullable=False),
    Column("created", String(32), nullable=False),
    Column("can_upload", Boolean, nullable=False, default=False),
)

# Values every machine must share and nobody sets by hand (the key signing page cookies).
instance = Table(
    "instance",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# A signed-in page session of single sign-on: the cookie carries its id only, so a sign-out, or an
# expiry, ends it on every machine at once.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user", String(256), nullable=False),
    Column("groups", JSON, nullable=False),
    Column("can_upload", Boolean, nullable=False, default=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False, index=True),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created", String(32), nullable=False),
    Column("updated", String(32), nullable=False),
    Column("session", String(128), nullable=False),
    Column("turn", Integer, nullable=False),
    Column("user", String(256)),
    Column("rating", String(4), nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("abstained", Boolean, nullable=False),
    Column("citations", JSON, nullable=False),
    Column("documents", JSON),
    UniqueConstraint("session", "turn", name="feedback_session_turn"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("machine", String(256), nullable=False),
    Column("channel", String(16), nullable=False),  # api, page or v1
    Column("caller", String(256), nullable=False),  # key:<id>, user:<name>, sso:<name> or address:<ip>
    Column("outcome", String(32), nullable=False),
    Column("documents", JSON, nullable=False),
    Column("passages", JSON, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("question", Text),  # only with CITED_AUDIT=full
    Index("audit_at", "at"),
    Index("audit_caller", "caller"),
)
