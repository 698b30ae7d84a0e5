"""How long a connector process may run, and how long it may stay silent, before Ferry kills it."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ferry.errors import ConfigError

TIMEOUT_ENV = "FERRY_CONNECTOR_TIMEOUT"
HEARTBEAT_ENV = "FERRY_HEARTBEAT_TIMEOUT"
DEFAULT_HEARTBEAT_SECONDS = 3 * 3600.0
"""Airbyte's default: a source that says nothing for three hours is taken for hung."""


@dataclass(frozen=True, slots=True)
class Limits:
    """`timeout`: wall-clock seconds for one connector process (None: no limit). `heartbeat`: seconds
    without output (or, for a destination, without taking input) before it counts as hung. `grace`:
    seconds between SIGTERM and SIGKILL when Ferry stops a process group."""

    timeout: float | None = None
    heartbeat: float | None = DEFAULT_HEARTBEAT_SECONDS
    grace: float = 5.0

    @classmethod
    def from_env(cls) -> Limits:
        """Limits from FERRY_CONNECTOR_TIMEOUT and FERRY_HEARTBEAT_TIMEOUT (seconds; 0 or empty: none)."""
        return cls(
            timeout=_seconds(TIMEOUT_ENV, None),
            heartbeat=_seconds(HEARTBEAT_ENV, DEFAULT_HEARTBEAT_SECONDS),
        )


def _seconds(name: str, default: float | None) -> float | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(
            f"environment variable {name} must be a number of seconds, not {text!r}",
            hint=f"Set {name}=600 for ten minutes, or unset it.",
        ) from None
    if value < 0:
        raise ConfigError(
            f"environment variable {name} must not be negative", hint=f"Set {name}=0 for no limit."
        )
    return value or None
