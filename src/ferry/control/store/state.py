"""The engine's StateStore backed by the config store, with a fencing check on every save.

Each attempt takes the connection's fence value when it starts (the value goes up for every new
attempt and every cancel). A save succeeds only while the attempt's value is still the current one, in
a single conditional UPDATE, so an attempt that was cancelled, timed out or replaced can never commit
state, whichever server or process it runs in.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from ferry.control.errors import FencedError
from ferry.control.store.db import Store
from ferry.control.store.models import Connection
from ferry.control.store.models import ConnectionState as StateRow
from ferry.control.store.types import utc_now
from ferry.engine.state_store import ConnectionState


class DbStateStore:
    """One connection's state; `fence` is the value the running attempt holds."""

    def __init__(self, store: Store, connection_id: str, fence: int) -> None:
        self.store = store
        self.connection_id = connection_id
        self.fence = fence

    def load(self) -> ConnectionState:
        with self.store.read() as session:
            raw = session.scalar(select(StateRow.state).where(StateRow.connection_id == self.connection_id))
        return ConnectionState.from_json(raw) if raw else ConnectionState()

    def save(self, state: ConnectionState) -> None:
        current = select(Connection.fence).where(Connection.id == self.connection_id).scalar_subquery()
        statement = (
            update(StateRow)
            .where(StateRow.connection_id == self.connection_id, current == self.fence)
            .values(state=state.to_json(), updated_at=utc_now())
        )
        with self.store.write() as session:
            saved = cast("CursorResult[Any]", session.execute(statement)).rowcount
        if saved != 1:
            raise FencedError(
                f"state of connection {self.connection_id} was not saved: this attempt is no longer current",
                hint="The job was cancelled or a newer attempt took over; it resumes from the saved state.",
            )
