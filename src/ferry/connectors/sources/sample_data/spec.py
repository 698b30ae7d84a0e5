"""The source's config: its JSON schema (the spec) and the validated settings read from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ferry.cdk.spec import validate_config
from ferry.connectors.sources.sample_data.products import MAX_PRODUCTS

MAX_COUNT = 1_000_000_000
"""Keeps the generated timestamps within the range every destination can store."""

CONNECTION_SPECIFICATION: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Sample Data Source Spec",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "count": {
            "type": "integer",
            "title": "Count",
            "description": (
                "Number of users and of purchases to generate; products are "
                f"min(count, {MAX_PRODUCTS}). Row i is the same whatever the count, "
                "so growing it between runs only adds rows."
            ),
            "minimum": 0,
            "maximum": MAX_COUNT,
            "default": 1000,
            "order": 0,
        },
        "seed": {
            "type": "integer",
            "title": "Seed",
            "description": "Seed of the generator: the same seed and count give byte-identical data.",
            "minimum": 0,
            "default": 0,
            "order": 1,
        },
        "records_per_checkpoint": {
            "type": "integer",
            "title": "Records per checkpoint",
            "description": "A state message is emitted after this many records of a stream, and at its end.",
            "minimum": 1,
            "default": 10_000,
            "order": 2,
        },
    },
}


@dataclass(frozen=True, slots=True)
class Settings:
    count: int = 1000
    seed: int = 0
    records_per_checkpoint: int = 10_000


def settings_from(config: Mapping[str, Any], connector: str) -> Settings:
    """Settings from a config; raises ConfigError naming the field when the config breaks the spec."""
    validate_config(CONNECTION_SPECIFICATION, config, connector)
    defaults = Settings()
    return Settings(
        count=int(config.get("count", defaults.count)),
        seed=int(config.get("seed", defaults.seed)),
        records_per_checkpoint=int(config.get("records_per_checkpoint", defaults.records_per_checkpoint)),
    )
