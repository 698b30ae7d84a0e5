"""Ferry's error types, by what the caller should do: fix the input, retry, or treat it as a bug.

Each maps to the Airbyte protocol's `failure_type`. Errors carry structured context (connector,
stream, field, what to do next) and never a secret; the scheduler decides retries by type.
"""

from __future__ import annotations

from typing import Any

from ferry.protocol import FailureType


class FerryError(Exception):
    """Root of every error Ferry raises on purpose."""

    failure_type: FailureType = FailureType.system_error
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        connector: str | None = None,
        stream: str | None = None,
        field: str | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.connector = connector
        self.stream = stream
        self.field = field
        self.context = context

    def __str__(self) -> str:
        parts = [self.message]
        if self.hint:
            parts.append(self.hint)
        return " ".join(p if p.endswith((".", "?", "!")) else p + "." for p in parts)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": type(self).__name__, "failure_type": self.failure_type.value}
        out["message"] = self.message
        for key in ("hint", "connector", "stream", "field"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


class ConfigError(FerryError):
    """The user's input is wrong (config, pipeline file, catalog): fix it and run again."""

    failure_type = FailureType.config_error


class TransientError(FerryError):
    """Something outside Ferry failed for now (network, locks, a busy server): retry with back-off."""

    failure_type = FailureType.transient_error
    retryable = True


class InternalError(FerryError):
    """A bug or an invariant broken (a count mismatch, a crash): give up and report it."""

    failure_type = FailureType.system_error


class DataError(FerryError):
    """One value or row is bad; the row is kept with a reason, or the error names it."""

    failure_type = FailureType.config_error


class CountMismatchError(InternalError):
    """Source, engine and destination disagree on how many records a checkpoint covers."""


class ConnectorError(FerryError):
    """A connector reported a failure; the failure type is the one it reported."""

    def __init__(
        self, message: str, *, failure_type: FailureType = FailureType.system_error, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.failure_type = failure_type
        self.retryable = failure_type is FailureType.transient_error


def error_from_failure_type(failure_type: FailureType | None, message: str, **kw: Any) -> FerryError:
    """The Ferry error class for a protocol `failure_type` (a TRACE error from a connector)."""
    cls: type[FerryError] = {
        FailureType.config_error: ConfigError,
        FailureType.transient_error: TransientError,
    }.get(failure_type or FailureType.system_error, InternalError)
    return cls(message, **kw)
