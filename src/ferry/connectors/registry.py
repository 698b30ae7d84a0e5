"""Finds connectors by short name through the `ferry.sources` / `ferry.destinations` entry points."""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Literal

from ferry.cdk import Destination, Source
from ferry.errors import ConfigError

Kind = Literal["source", "destination"]
_GROUPS: dict[Kind, str] = {"source": "ferry.sources", "destination": "ferry.destinations"}


@cache
def _entry_points(kind: Kind) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=_GROUPS[kind])}


def names(kind: Kind) -> list[str]:
    return sorted(_entry_points(kind))


def _load(kind: Kind, name: str) -> object:
    ep = _entry_points(kind).get(name)
    if ep is None:
        known = ", ".join(names(kind)) or "none"
        raise ConfigError(f"unknown {kind} connector '{name}'", hint=f"Known {kind}s: {known}.")
    return ep.load()()


def source(name: str) -> Source:
    connector = _load("source", name)
    assert isinstance(connector, Source)
    return connector


def destination(name: str) -> Destination:
    connector = _load("destination", name)
    assert isinstance(connector, Destination)
    return connector
