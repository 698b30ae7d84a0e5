"""The connector conformance suite on the mysql source, over a keyed table and a keyless one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.dbs import mysql_database, mysql_source_config

from ferry.cdk.conformance import SourceConformance
from ferry.connectors.sources.mysql import MySQLSource
from ferry.protocol import ConfiguredStream, StateMessage

from .helpers import execute


class TestMySQLConformance(SourceConformance):
    connector = MySQLSource

    @pytest.fixture(scope="class")
    @classmethod
    def source_config(cls) -> Iterator[dict[str, Any]]:
        with mysql_database() as name:
            execute(
                name,
                "CREATE TABLE orders (id INT PRIMARY KEY, amount DECIMAL(8,2), note VARCHAR(20), "
                "updated_at DATETIME NOT NULL)",
                # Many rows share each updated_at, so checkpoints fall inside runs of equal cursors.
                "INSERT INTO orders SELECT seq, seq / 10, CONCAT('n', seq), "
                "TIMESTAMPADD(MINUTE, seq DIV 7, '2024-01-01') FROM seq_1_to_1200",
                "CREATE TABLE events (kind VARCHAR(10), updated_at BIGINT)",
                "INSERT INTO events SELECT CONCAT('k', seq % 3), seq DIV 4 FROM seq_1_to_300",
            )
            yield mysql_source_config(name, records_per_checkpoint=250)

    @classmethod
    def state_cursor(cls, stream: ConfiguredStream, state: StateMessage) -> Any:
        blob = state.stream.stream_state if state.stream is not None else None
        return blob.get("cursor") if isinstance(blob, dict) else None
