"""The connector conformance suite on the postgres source: a table paged by key, one by ctid, and a view."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.dbs import pg_connect, pg_source_config, unique_name

from ferry.cdk.conformance import SourceConformance
from ferry.cdk.source import Source
from ferry.connectors.sources.postgres import PostgresSource
from ferry.protocol import Catalog, ConfiguredStream, StateMessage

SETUP = """
CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(10, 2),
    ordered_on date, doc jsonb, updated_at timestamptz NOT NULL);
INSERT INTO orders SELECT i, 'customer ' || (i % 97), (i * 1.25)::numeric(10, 2), date '2024-01-01' + i % 365,
    jsonb_build_object('i', i, 'tags', jsonb_build_array('a', i % 3)),
    timestamptz '2024-01-01 00:00+00' + (i / 4) * interval '1 minute' FROM generate_series(1, 2500) i;
CREATE TABLE notes (body text, updated_at timestamptz NOT NULL);
INSERT INTO notes SELECT 'note ' || i, timestamptz '2024-06-01 00:00+00' + (i / 10) * interval '1 hour'
    FROM generate_series(1, 600) i;
ANALYZE notes;
CREATE VIEW recent_orders AS SELECT id, customer, updated_at FROM orders WHERE id % 5 = 0;
"""


class TestPostgresSource(SourceConformance):
    connector = PostgresSource
    max_resumes = 6

    @pytest.fixture(scope="class")
    @classmethod
    def source_config(cls, pg_db: str) -> Iterator[dict[str, Any]]:
        schema = unique_name("conf")
        with pg_connect(pg_db) as con:
            con.execute(f'CREATE SCHEMA "{schema}"')
            con.execute(f'SET search_path TO "{schema}"')
            con.execute(SETUP)
            try:
                yield pg_source_config(pg_db, schemas=[schema], checkpoint_rows=400, chunk_rows=1000)
            finally:
                con.execute(f'DROP SCHEMA "{schema}" CASCADE')

    @pytest.fixture(scope="class")
    @classmethod
    def catalog(cls, source: Source, source_config: dict[str, Any]) -> Catalog:
        # The user picks a database table's cursor; the suite configures incremental reads by the
        # default cursor, so the choice a user would make is set here.
        catalog = source.discover(source_config)
        for stream in catalog.streams:
            stream.default_cursor_field = ["updated_at"]
        return catalog

    @classmethod
    def state_cursor(cls, stream: ConfiguredStream, state: StateMessage) -> Any:
        blob = state.stream.stream_state if state.stream is not None else None
        return blob.get("cursor") if isinstance(blob, dict) else None
