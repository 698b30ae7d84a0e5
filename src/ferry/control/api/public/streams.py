"""/streams: a source's streams with the sync modes each can use (a bare JSON array, as Airbyte answers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ferry.control.api import models as m
from ferry.control.api.deps import Caller, Ctx
from ferry.control.services import actors, catalogs, streams
from ferry.control.services.connections import destination_modes
from ferry.protocol import DestinationSyncMode

router = APIRouter(tags=["Streams"])
_IdQuery = Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


@router.get("/streams", response_model=list[m.StreamProperties], operation_id="getStreamProperties")
def get_stream_properties(
    ctx: Ctx,
    who: Caller,
    source_id: Annotated[
        str, Query(alias="sourceId", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    ],
    destination_id: Annotated[
        str | None, Query(alias="destinationId", max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    ] = None,
    ignore_cache: Annotated[bool, Query(alias="ignoreCache")] = False,
) -> list[m.StreamProperties]:
    catalog = catalogs.discover(ctx, who, source_id, use_cache=not ignore_cache)
    modes = tuple(DestinationSyncMode)
    if destination_id:
        modes = tuple(destination_modes(actors.get(ctx, who, "destination", destination_id)))
    return [
        m.StreamProperties(
            streamName=s.name,
            streamnamespace=s.namespace,
            syncModes=streams.combined_modes(s, modes),  # type: ignore[arg-type]  # names from SYNC_MODES
            defaultCursorField=s.default_cursor_field,
            sourceDefinedCursorField=bool(s.source_defined_cursor),
            sourceDefinedPrimaryKey=s.source_defined_primary_key,
            propertyFields=[[name] for name in (s.json_schema.get("properties") or {})],
        )
        for s in catalog.streams
    ]
