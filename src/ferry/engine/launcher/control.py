"""CONTROL messages: a connector hands Ferry a new config during a run (an OAuth token it rotated).

The new keys are merged into the stored config, overwriting the ones they name, after the result
is validated against the connector's spec. They are passed on at once (a callback persists them), so
a rotated single-use token survives even when the sync fails afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from ferry.cdk.secrets import register_secrets
from ferry.cdk.spec import secret_values, validate_config
from ferry.errors import ConfigError
from ferry.protocol import ConnectorSpecification, ControlMessage, ControlType

log = logging.getLogger("ferry.launcher")
ConfigCallback = Callable[[dict[str, Any]], None]
"""Receives the keys a connector changed (not the whole config)."""


class ConfigUpdates:
    def __init__(
        self,
        name: str,
        config: dict[str, Any],
        spec: Callable[[], ConnectorSpecification],
        on_change: ConfigCallback | None,
    ) -> None:
        self.name = name
        self.config = config
        self._spec = spec
        self._on_change = on_change

    def apply(self, control: ControlMessage) -> str:
        """Merge one CONTROL message; returns a line for the log saying what happened."""
        if control.type is not ControlType.CONNECTOR_CONFIG or control.connector_config is None:
            return f"connector '{self.name}' sent an unknown CONTROL message ({control.type}); ignored"
        updates = dict(control.connector_config.config)
        schema = self._spec().connection_specification
        merged = {**self.config, **updates}
        register_secrets(secret_values(schema, merged))  # the new token is masked from here on
        try:
            validate_config(schema, merged, self.name)
        except ConfigError as exc:
            return f"connector '{self.name}' sent a config update that its spec rejects; ignored: {exc}"
        changed = {k: v for k, v in updates.items() if self.config.get(k) != v}
        self.config.clear()
        self.config.update(merged)
        if changed and self._on_change is not None:
            self._on_change(changed)
        return f"connector '{self.name}' updated its config ({', '.join(sorted(changed)) or 'no change'})"


def merged(config: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    return {**config, **overrides}
