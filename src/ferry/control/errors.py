"""Errors of the control plane's use cases; the API maps each to an HTTP status and a problem body."""

from __future__ import annotations

from typing import Any

from ferry.errors import ConfigError, FerryError


class NotFoundError(FerryError):
    """The object does not exist, or the caller may not see it (the two are never told apart)."""

    def __init__(self, kind: str, object_id: object, **context: Any) -> None:
        super().__init__(f"{kind} {object_id} was not found", **context)
        self.kind = kind


class ConflictError(FerryError):
    """The request clashes with the current state (a sync already running, a name taken)."""


class ForbiddenError(FerryError):
    """The caller is known but its role does not allow this action."""


class InvalidInputError(ConfigError):
    """The request is well-formed but its content is not acceptable; `field` names the JSON path."""


class UnprocessableError(ConfigError):
    """The request cannot be acted on as given (an unknown connector type, an unsupported job type)."""


class FencedError(FerryError):
    """An attempt that is no longer the current one tried to write; its write was refused."""
