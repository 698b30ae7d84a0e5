"""The built-in `postgres` source: tables and views of a PostgreSQL database as Arrow batches."""

from ferry.connectors.sources.postgres.source import PostgresSource

__all__ = ["PostgresSource"]
