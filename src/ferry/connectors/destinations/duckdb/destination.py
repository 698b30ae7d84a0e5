"""The built-in DuckDB destination: Airbyte Destinations V2 final tables in a local DuckDB file."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from ferry.cdk.destination import Destination, Writer
from ferry.cdk.identifiers import normalize
from ferry.errors import ConfigError
from ferry.protocol import ConfiguredCatalog, ConnectorSpecification, DestinationSyncMode

_SPEC: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "DuckDB destination",
    "type": "object",
    "required": ["path"],
    "properties": {
        "path": {
            "type": "string",
            "title": "Database file",
            "description": "Path of the DuckDB file (created with its directory if missing), or ':memory:'.",
            "examples": ["./warehouse.duckdb"],
        },
        "schema": {
            "type": "string",
            "title": "Default schema",
            "description": "Schema for streams without a namespace (a namespace names its own schema).",
            "default": "main",
        },
        "memory_limit": {
            "type": "string",
            "title": "Memory limit",
            "description": "DuckDB's buffer memory limit for a file database (e.g. 256MB, 2GB); beyond it "
            "DuckDB spills to disk, so a sync's memory does not grow with the table. Ignored for ':memory:'.",
            "default": "128MB",
            "pattern": "^[0-9]+(\\.[0-9]+)?\\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        },
    },
}


class DuckDBDestination(Destination):
    """One typed final table per stream, with `_airbyte_raw_id`, `_airbyte_extracted_at`, `_airbyte_meta`
    and `_airbyte_generation_id`; every sync mode, generations, deduplication and schema evolution."""

    name: ClassVar[str] = "duckdb"
    supported_sync_modes: ClassVar[tuple[DestinationSyncMode, ...]] = (
        DestinationSyncMode.append,
        DestinationSyncMode.overwrite,
        DestinationSyncMode.append_dedup,
        DestinationSyncMode.overwrite_dedup,
    )

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(
            connection_specification=_SPEC,
            supports_incremental=True,
            supported_destination_sync_modes=list(self.supported_sync_modes),
        )

    def check(self, config: Mapping[str, Any]) -> None:
        """Open (or create) the file and schema, then create, fill and drop a probe table."""
        import duckdb

        from ferry.connectors.destinations.duckdb import tables
        from ferry.connectors.destinations.duckdb.connection import (
            TableRef,
            connect,
            current_catalog,
            database_path,
            memory_limit,
        )
        from ferry.connectors.destinations.duckdb.plan import MAX_IDENTIFIER_BYTES

        path = database_path(config)
        schema = normalize(str(config.get("schema") or "main"), MAX_IDENTIFIER_BYTES)
        con = connect(path, memory_limit(config))
        try:
            probe = TableRef(current_catalog(con), schema, f"_ferry_check_{uuid.uuid4().hex}")
            tables.create_schema(con, probe.catalog, schema)
            con.execute(f"CREATE TABLE {probe.sql} (probe INTEGER)")
            con.execute(f"INSERT INTO {probe.sql} VALUES (1)")
            con.execute(f"DROP TABLE {probe.sql}")
        except duckdb.Error as exc:
            reason = str(exc).splitlines()[0]
            raise ConfigError(
                f"cannot write to schema '{schema}' of the DuckDB database {path}: {reason}",
                hint="Check that the file and schema are writable by this process.",
                field="path",
            ) from None
        finally:
            con.close()

    def writer(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> Writer:
        from ferry.connectors.destinations.duckdb.writer import DuckDBWriter

        return DuckDBWriter(config, catalog)
