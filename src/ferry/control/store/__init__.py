"""The config store: SQLAlchemy models, the database connection and the engine's state store."""

from ferry.control.store.db import Store

__all__ = ["Store"]
