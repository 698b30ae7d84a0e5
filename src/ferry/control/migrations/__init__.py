"""Alembic migrations of the config store, applied when the server starts."""
