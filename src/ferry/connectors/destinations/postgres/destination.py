"""The built-in Postgres destination: Airbyte Destinations V2 final tables loaded with COPY."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from ferry.cdk.destination import Destination, Writer
from ferry.cdk.identifiers import normalize, quote
from ferry.connectors.destinations.postgres.config import SPEC
from ferry.protocol import ConfiguredCatalog, ConnectorSpecification, DestinationSyncMode


class PostgresDestination(Destination):
    """One typed final table per stream, with `_airbyte_raw_id`, `_airbyte_extracted_at`, `_airbyte_meta`
    and `_airbyte_generation_id`; every sync mode, generations, deduplication and schema evolution."""

    name: ClassVar[str] = "postgres"
    documentation_url: ClassVar[str | None] = None
    supported_sync_modes: ClassVar[tuple[DestinationSyncMode, ...]] = (
        DestinationSyncMode.append,
        DestinationSyncMode.overwrite,
        DestinationSyncMode.append_dedup,
        DestinationSyncMode.overwrite_dedup,
    )

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(
            connection_specification=SPEC,
            supports_incremental=True,
            supported_destination_sync_modes=list(self.supported_sync_modes),
        )

    def check(self, config: Mapping[str, Any]) -> None:
        """Connect, create the schema when missing, then create and drop a probe table in it."""
        import psycopg

        from ferry.connectors.destinations.postgres.config import settings_from
        from ferry.connectors.destinations.postgres.connection import connect, failure
        from ferry.connectors.destinations.postgres.plan import MAX_IDENTIFIER_BYTES
        from ferry.connectors.destinations.postgres.tables import TableRef, create_schema

        settings = settings_from(config)
        schema = normalize(settings.schema, MAX_IDENTIFIER_BYTES)
        con = connect(settings)
        try:
            probe = TableRef(schema, f"_ferry_check_{uuid.uuid4().hex[:12]}")
            create_schema(con, schema)
            con.execute(f"CREATE TABLE {probe.sql} ({quote('probe')} integer)")
            con.execute(f"INSERT INTO {probe.sql} VALUES (1)")
            con.execute(f"DROP TABLE {probe.sql}")
            con.commit()
        except psycopg.Error as exc:
            raise failure(exc, f"writing a probe table in schema '{schema}' ({settings.where})") from None
        finally:
            con.close()
            settings.cleanup()

    def writer(self, config: Mapping[str, Any], catalog: ConfiguredCatalog) -> Writer:
        from ferry.connectors.destinations.postgres.writer import PostgresWriter

        return PostgresWriter(config, catalog)
