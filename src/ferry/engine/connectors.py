"""Resolves a connector reference (`type:` in a pipeline) to a runner the engine can drive."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ferry.connectors import registry
from ferry.engine.runners import DestinationRunner, InProcessDestination, InProcessSource, SourceRunner


def source_runner(ref: str, config: Mapping[str, Any]) -> SourceRunner:
    return InProcessSource(registry.source(ref), config)


def destination_runner(ref: str, config: Mapping[str, Any]) -> DestinationRunner:
    return InProcessDestination(registry.destination(ref), config)
