"""Where a connection's state lives between syncs: per-stream states, generations and the sync counter.

The file store writes atomically (temp file, fsync, rename), so a crash at any instant leaves either
the previous or the next version, never a torn one.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ferry.errors import ConfigError
from ferry.protocol import (
    StateMessage,
    StateType,
    StreamDescriptor,
    StreamState,
    dumps,
    from_obj,
    loads,
    to_obj,
)

FORMAT_VERSION = 1


@dataclass(slots=True)
class StreamEntry:
    """What is remembered of one stream: its last committed state and its generation."""

    state: dict[str, Any] | None = None
    generation: int = 0
    truncating: bool = False
    """True while a generation that replaces the stream's data is in progress (until it is swapped in)."""


@dataclass(slots=True)
class ConnectionState:
    sync_id: int = 0
    state_type: StateType | None = None
    shared_state: dict[str, Any] | None = None
    legacy: dict[str, Any] | None = None
    streams: dict[StreamDescriptor, StreamEntry] = field(default_factory=dict)

    def entry(self, descriptor: StreamDescriptor) -> StreamEntry:
        entry = self.streams.get(descriptor)
        if entry is None:
            entry = self.streams[descriptor] = StreamEntry()
        return entry

    def source_state(self) -> list[StateMessage]:
        """The state file a source gets: the latest STREAM states, or the one GLOBAL state."""
        stream_states = [
            StreamState(d, e.state)
            for d, e in sorted(self.streams.items(), key=lambda kv: str(kv[0]))
            if e.state is not None
        ]
        if self.state_type is StateType.GLOBAL:
            from ferry.protocol import GlobalState

            return [
                StateMessage(type=StateType.GLOBAL, global_=GlobalState(stream_states, self.shared_state))
            ]
        if self.state_type is StateType.LEGACY and self.legacy is not None:
            return [StateMessage(type=StateType.LEGACY, data=self.legacy)]
        return [StateMessage(type=StateType.STREAM, stream=s) for s in stream_states]

    def apply(self, message: StateMessage) -> None:
        """Record a state the destination has committed and echoed."""
        kind = message.state_type
        self.state_type = kind
        if kind is StateType.STREAM and message.stream is not None:
            self.entry(message.stream.stream_descriptor).state = message.stream.stream_state
        elif kind is StateType.GLOBAL and message.global_ is not None:
            self.shared_state = message.global_.shared_state
            for s in message.global_.stream_states:
                self.entry(s.stream_descriptor).state = s.stream_state
        elif kind is StateType.LEGACY:
            self.legacy = message.data

    def to_json(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "sync_id": self.sync_id,
            "state_type": self.state_type.value if self.state_type else None,
            "shared_state": self.shared_state,
            "legacy": self.legacy,
            "streams": [
                {
                    "stream_descriptor": to_obj(d),
                    "state": e.state,
                    "generation": e.generation,
                    "truncating": e.truncating,
                }
                for d, e in sorted(self.streams.items(), key=lambda kv: str(kv[0]))
            ],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ConnectionState:
        out = cls(
            sync_id=int(raw.get("sync_id", 0)),
            state_type=StateType(raw["state_type"]) if raw.get("state_type") else None,
            shared_state=raw.get("shared_state"),
            legacy=raw.get("legacy"),
        )
        for item in raw.get("streams", []):
            descriptor = from_obj(StreamDescriptor, item["stream_descriptor"])
            out.streams[descriptor] = StreamEntry(
                item.get("state"), int(item.get("generation", 0)), bool(item.get("truncating"))
            )
        return out


class StateStore(Protocol):
    """Loads and saves one connection's state. `save` must be atomic and durable when it returns."""

    def load(self) -> ConnectionState: ...

    def save(self, state: ConnectionState) -> None: ...


class FileStateStore:
    """A JSON file, replaced atomically on every save."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> ConnectionState:
        try:
            raw = loads(self.path.read_bytes())
        except FileNotFoundError:
            return ConnectionState()
        except ValueError as exc:
            raise ConfigError(
                f"state file {self.path} is not valid JSON ({exc})",
                hint="Restore it from a backup, or delete it and run with --full-refresh to start over.",
            ) from None
        if not isinstance(raw, dict) or raw.get("version") != FORMAT_VERSION:
            raise ConfigError(
                f"state file {self.path} has an unknown format", hint="Delete it and run with --full-refresh."
            )
        return ConnectionState.from_json(raw)

    def save(self, state: ConnectionState) -> None:
        from ferry.engine import faults

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(dumps(state.to_json()))
                f.flush()
                os.fsync(f.fileno())
            faults.point("state_written")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class MemoryStateStore:
    """Keeps state in memory (tests, one-off syncs)."""

    def __init__(self) -> None:
        self._raw: dict[str, Any] | None = None

    def load(self) -> ConnectionState:
        return ConnectionState.from_json(self._raw) if self._raw else ConnectionState()

    def save(self, state: ConnectionState) -> None:
        self._raw = loads(dumps(state.to_json()))
