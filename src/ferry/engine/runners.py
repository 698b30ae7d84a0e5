"""The one interface the engine uses to run a connector, whatever runs it, and the in-process kind.

The launcher (ferry.engine.launcher) runs connectors as subprocesses, from managed virtualenvs or in
Docker behind this same interface; the engine never asks which one it got.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from ferry.cdk import Destination, DestinationInput, Source, SourceOutput
from ferry.cdk.secrets import register_secrets
from ferry.cdk.spec import secret_values, validate_config
from ferry.errors import ConfigError, FerryError
from ferry.protocol import (
    Catalog,
    ConfiguredCatalog,
    ConnectionStatus,
    ConnectionStatusValue,
    ConnectorSpecification,
    DestinationSyncMode,
    Message,
    StateMessage,
)


class SourceRunner(Protocol):
    name: str

    def spec(self) -> ConnectorSpecification: ...

    def check(self) -> ConnectionStatus: ...

    def discover(self) -> Catalog: ...

    def read(self, catalog: ConfiguredCatalog, state: Sequence[StateMessage]) -> Iterator[SourceOutput]: ...


class DestinationRunner(Protocol):
    name: str

    @property
    def supported_sync_modes(self) -> Sequence[DestinationSyncMode]: ...

    def spec(self) -> ConnectorSpecification: ...

    def check(self) -> ConnectionStatus: ...

    def write(
        self, catalog: ConfiguredCatalog, messages: Iterable[DestinationInput]
    ) -> Iterator[Message]: ...


def _prepared_config(connector: Source | Destination, config: Mapping[str, Any]) -> dict[str, Any]:
    schema = connector.spec().connection_specification
    register_secrets(secret_values(schema, config))
    validate_config(schema, config, connector.name)
    return dict(config)


def _status(check: Any) -> ConnectionStatus:
    try:
        check()
    except ConfigError as exc:
        return ConnectionStatus(ConnectionStatusValue.FAILED, str(exc))
    except FerryError as exc:
        return ConnectionStatus(ConnectionStatusValue.FAILED, str(exc))
    return ConnectionStatus(ConnectionStatusValue.SUCCEEDED)


class InProcessSource:
    """A built-in source running in this process; records stay Arrow batches end to end."""

    def __init__(self, connector: Source, config: Mapping[str, Any]) -> None:
        self.connector = connector
        self.name = connector.name
        self.config = _prepared_config(connector, config)

    def spec(self) -> ConnectorSpecification:
        return self.connector.spec()

    def check(self) -> ConnectionStatus:
        return _status(lambda: self.connector.check(self.config))

    def discover(self) -> Catalog:
        return self.connector.discover(self.config)

    def read(self, catalog: ConfiguredCatalog, state: Sequence[StateMessage]) -> Iterator[SourceOutput]:
        return self.connector.read(self.config, catalog, state)


class InProcessDestination:
    """A built-in destination running in this process."""

    def __init__(self, connector: Destination, config: Mapping[str, Any]) -> None:
        self.connector = connector
        self.name = connector.name
        self.config = _prepared_config(connector, config)

    @property
    def supported_sync_modes(self) -> Sequence[DestinationSyncMode]:
        return self.connector.supported_sync_modes

    def spec(self) -> ConnectorSpecification:
        return self.connector.spec()

    def check(self) -> ConnectionStatus:
        return _status(lambda: self.connector.check(self.config))

    def write(self, catalog: ConfiguredCatalog, messages: Iterable[DestinationInput]) -> Iterator[Message]:
        return self.connector.write(self.config, catalog, messages)
