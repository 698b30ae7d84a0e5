"""The built-in PostgreSQL destination: `PostgresDestination`, registered as `postgres`."""

from ferry.connectors.destinations.postgres.destination import PostgresDestination

__all__ = ["PostgresDestination"]
