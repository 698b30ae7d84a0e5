"""The `sample-data` source: deterministic fake e-commerce data (users, products, purchases)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ferry.cdk import Source, Stream
from ferry.connectors.sources.sample_data.blocks import Table
from ferry.connectors.sources.sample_data.products import PRODUCTS
from ferry.connectors.sources.sample_data.purchases import PURCHASES
from ferry.connectors.sources.sample_data.spec import CONNECTION_SPECIFICATION, settings_from
from ferry.connectors.sources.sample_data.stream import SampleStream
from ferry.connectors.sources.sample_data.users import USERS
from ferry.protocol import ConnectorSpecification

TABLES: tuple[Table, ...] = (USERS, PRODUCTS, PURCHASES)


class SampleDataSource(Source):
    """The same rows for the same config, generated fast in Arrow batches: for demos, tests, benchmarks."""

    name = "sample-data"

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(
            connection_specification=copy.deepcopy(CONNECTION_SPECIFICATION),
            supports_incremental=True,
        )

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        settings = settings_from(config, self.name)
        return [SampleStream(table, settings) for table in TABLES]
