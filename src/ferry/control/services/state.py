"""A connection's saved state: readable by its workspace, replaceable by workspace admins between runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ferry.control.errors import ConflictError, InvalidInputError
from ferry.control.services import connections
from ferry.control.services.context import Control, Principal
from ferry.control.store.models import ACTIVE_JOB_STATUSES, Job
from ferry.control.store.models import ConnectionState as StateRow
from ferry.control.store.types import utc_now
from ferry.engine.state_store import ConnectionState


def get(ctx: Control, who: Principal, connection_id: str) -> ConnectionState:
    with ctx.store.read() as session:
        connections.load(session, who, connection_id)
        raw = session.scalar(select(StateRow.state).where(StateRow.connection_id == connection_id))
    return ConnectionState.from_json(raw) if raw else ConnectionState()


def replace(ctx: Control, who: Principal, connection_id: str, raw: dict[str, Any]) -> ConnectionState:
    """Replaces the state (admins only); refused while a job of the connection is active."""
    try:
        state = ConnectionState.from_json({**raw, "version": 1})
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"the state is not valid: {exc}", field="state") from None
    with ctx.store.write() as session:
        connections.load(session, who, connection_id, "admin")
        if session.scalar(
            select(Job.id).where(Job.connection_id == connection_id, Job.status.in_(ACTIVE_JOB_STATUSES))
        ):
            raise ConflictError(
                f"connection {connection_id} has a running job; its state cannot change now",
                hint="Cancel the job first.",
            )
        row = session.get(StateRow, connection_id)
        if row is None:
            session.add(StateRow(connection_id=connection_id, state=state.to_json()))
        else:
            row.state, row.updated_at = state.to_json(), utc_now()
    return state


def to_airbyte(connection_id: str, state: ConnectionState) -> dict[str, Any]:
    """The state in the config API's shape (stateType, streamState, globalState)."""
    streams = [
        {"streamDescriptor": _descriptor(d), "streamState": e.state}
        for d, e in sorted(state.streams.items(), key=lambda kv: str(kv[0]))
        if e.state is not None
    ]
    out: dict[str, Any] = {"connectionId": connection_id, "stateType": "not_set"}
    if state.state_type is not None and state.state_type.value == "GLOBAL":
        out.update(
            stateType="global", globalState={"sharedState": state.shared_state, "streamStates": streams}
        )
    elif state.state_type is not None and state.state_type.value == "LEGACY":
        out.update(stateType="legacy", state=state.legacy)
    elif streams:
        out.update(stateType="stream", streamState=streams)
    return out


def from_airbyte(raw: dict[str, Any], current: ConnectionState) -> dict[str, Any]:
    """A config API state body as the engine's state JSON; generations and the sync counter are kept."""
    kind = raw.get("stateType")
    if kind not in ("stream", "global", "legacy", "not_set"):
        raise InvalidInputError(
            "stateType must be one of: stream, global, legacy, not_set", field="connectionState.stateType"
        )
    global_state = raw.get("globalState") or {}
    items = raw.get("streamState") if kind == "stream" else global_state.get("streamStates")
    entries = {}
    for index, item in enumerate(items or []):
        descriptor = (item or {}).get("streamDescriptor") or {}
        if not isinstance(descriptor.get("name"), str):
            raise InvalidInputError(
                "every stream state needs streamDescriptor.name",
                field=f"connectionState.streamState[{index}]",
            )
        entries[(descriptor["name"], descriptor.get("namespace"))] = item.get("streamState")
    streams = []
    for d, e in current.streams.items():
        streams.append(
            {
                "stream_descriptor": _descriptor(d),
                "state": entries.pop((d.name, d.namespace), None),
                "generation": e.generation,
                "truncating": e.truncating,
            }
        )
    for (name, namespace), value in entries.items():
        streams.append(
            {"stream_descriptor": {"name": name, "namespace": namespace}, "state": value, "generation": 0}
        )
    return {
        "sync_id": current.sync_id,
        "state_type": {"stream": "STREAM", "global": "GLOBAL", "legacy": "LEGACY"}.get(kind),
        "shared_state": global_state.get("sharedState") if kind == "global" else None,
        "legacy": raw.get("state") if kind == "legacy" else None,
        "streams": streams,
    }


def _descriptor(d: Any) -> dict[str, Any]:
    return {"name": d.name, "namespace": d.namespace} if d.namespace else {"name": d.name}
