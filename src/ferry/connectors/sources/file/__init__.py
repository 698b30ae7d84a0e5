"""The built-in `file` source: CSV, TSV, JSON lines and Parquet from a path, a glob or an HTTP(S) URL."""

from ferry.connectors.sources.file.source import FileSource

__all__ = ["FileSource"]
