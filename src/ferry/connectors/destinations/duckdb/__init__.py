"""The built-in DuckDB destination (the embedded default): `DuckDBDestination`, registered as `duckdb`."""

from ferry.connectors.destinations.duckdb.destination import DuckDBDestination

__all__ = ["DuckDBDestination"]
