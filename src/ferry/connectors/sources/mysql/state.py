"""The stream states the mysql source writes, and how a read finds its starting point in one.

Full refresh, by a chunk key: `{"mode": "full_refresh", "chunk_key": ["id"], "after": [1234]}`, the key of
the last row read (the next chunk starts strictly after it). Without a chunk key a table is read in
one pass and only its end is recorded: `{"mode": "full_refresh", "chunk_key": [], "done": true}`.
Incremental: `{"mode": "incremental", "cursor_field": "updated_at", "cursor": "2024-05-01 10:00:00"}`;
the next read starts AT that value (inclusive), so rows sharing it are never skipped.
A state of another mode, key or cursor is ignored: the read starts from the beginning.
"""

from __future__ import annotations

from typing import Any

FULL_REFRESH = "full_refresh"
INCREMENTAL = "incremental"


def full_refresh_state(chunk_key: list[str], after: list[Any] | None) -> dict[str, Any]:
    if not chunk_key:
        return {"mode": FULL_REFRESH, "chunk_key": [], "done": True}
    return {"mode": FULL_REFRESH, "chunk_key": chunk_key, "after": after}


def incremental_state(cursor_field: str, cursor: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"mode": INCREMENTAL, "cursor_field": cursor_field}
    if cursor is not None:
        state["cursor"] = cursor
    return state


def resume_after(state: dict[str, Any] | None, chunk_key: list[str]) -> list[Any] | None:
    """The chunk key values a full refresh resumes after; None to start from the first row."""
    if not state or state.get("mode") != FULL_REFRESH or state.get("chunk_key") != chunk_key:
        return None
    after = state.get("after")
    return after if isinstance(after, list) and len(after) == len(chunk_key) else None


def finished_without_key(state: dict[str, Any] | None) -> bool:
    """True when a keyless full refresh already read the whole table in this generation."""
    return bool(
        state and state.get("mode") == FULL_REFRESH and state.get("chunk_key") == [] and state.get("done")
    )


def lower_bound(state: dict[str, Any] | None, cursor_field: str) -> Any:
    """The cursor value an incremental read starts at (inclusive); None to read every row."""
    if not state or state.get("mode") != INCREMENTAL or state.get("cursor_field") != cursor_field:
        return None
    return state.get("cursor")
