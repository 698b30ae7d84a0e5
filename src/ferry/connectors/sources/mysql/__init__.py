"""Built-in source for MySQL and MariaDB: tables and views into Arrow batches through connectorx."""

from ferry.connectors.sources.mysql.source import MySQLSource

__all__ = ["MySQLSource"]
