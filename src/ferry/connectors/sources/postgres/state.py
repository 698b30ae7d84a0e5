"""The stream states the postgres source writes, in the layout Airbyte's source-postgres uses where the
two overlap (`state_type`, `cursor_field`, `cursor`), so Airbyte states carry over."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

VERSION = 2
CURSOR = "cursor_based"
PRIMARY_KEY = "primary_key"
CTID = "ctid"


@dataclass(frozen=True, slots=True)
class CursorState:
    cursor_field: str
    cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "state_type": CURSOR,
            "version": VERSION,
            "cursor_field": [self.cursor_field],
            "cursor": self.cursor,
        }


@dataclass(frozen=True, slots=True)
class KeyState:
    columns: tuple[str, ...]
    values: tuple[str, ...]
    """The key of the last row read, as text: a resumed read starts after it."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "state_type": PRIMARY_KEY,
            "version": VERSION,
            "pk_columns": list(self.columns),
            "pk": list(self.values),
        }


@dataclass(frozen=True, slots=True)
class CtidState:
    filenode: int
    next_page: int
    """The first heap page not read yet; pages before it were read whole."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "state_type": CTID,
            "version": VERSION,
            "relation_filenode": self.filenode,
            "next_page": self.next_page,
        }


def _kind(state: dict[str, Any] | None) -> str | None:
    return state.get("state_type") if isinstance(state, dict) else None


def cursor_state(state: dict[str, Any] | None, cursor_field: str, log: logging.Logger) -> CursorState:
    """The cursor to resume from; a state for another cursor (or none) starts from the beginning."""
    if state is None or not state:
        return CursorState(cursor_field, None)
    if _kind(state) == CURSOR and state.get("cursor_field") == [cursor_field]:
        value = state.get("cursor")
        return CursorState(cursor_field, None if value is None else str(value))
    log.warning("the saved state is not for cursor %r; reading the stream from the start", cursor_field)
    return CursorState(cursor_field, None)


def key_state(state: dict[str, Any] | None, columns: tuple[str, ...]) -> KeyState | None:
    if _kind(state) != PRIMARY_KEY or state is None:
        return None
    values = state.get("pk")
    if (
        tuple(state.get("pk_columns") or ()) != columns
        or not isinstance(values, list)
        or len(values) != len(columns)
    ):
        return None
    return KeyState(columns, tuple(str(v) for v in values))


def ctid_state(state: dict[str, Any] | None, filenode: int, log: logging.Logger) -> CtidState | None:
    if _kind(state) != CTID or state is None:
        return None
    if state.get("relation_filenode") != filenode:
        # VACUUM FULL, CLUSTER or TRUNCATE rewrote the table: old page numbers mean nothing now.
        log.warning("the table was rewritten since the last checkpoint; reading it again from the start")
        return None
    return CtidState(filenode, int(state.get("next_page", 0)))
