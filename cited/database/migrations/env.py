"""Alembic's environment: always handed a connection by ``cited/database/engine.py``."""

from __future__ import annotations

from alembic import context

from cited.database.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
