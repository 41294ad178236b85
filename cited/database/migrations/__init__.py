"""Alembic's migrations of the shared state, run by ``cited/database/engine.py`` at first use."""
