"""A source's catalog: discovered by running the connector, cached on the source row."""

from __future__ import annotations

from ferry.control.errors import InvalidInputError
from ferry.control.services import actors
from ferry.control.services.actors import ActorView
from ferry.control.services.context import Control, Principal
from ferry.control.store.models import Source
from ferry.control.store.types import utc_now
from ferry.errors import ConfigError
from ferry.protocol import Catalog, from_obj, to_obj


def discover(ctx: Control, who: Principal, source_id: str, *, use_cache: bool = True) -> Catalog:
    view = actors.get(ctx, who, "source", source_id)
    return catalog_of(ctx, view, use_cache=use_cache)


def catalog_of(ctx: Control, view: ActorView, *, use_cache: bool = True) -> Catalog:
    row = view.row
    assert isinstance(row, Source)
    if use_cache and row.catalog:
        return from_obj(Catalog, row.catalog)
    catalog = _run_discover(ctx, view)
    with ctx.store.write() as session:
        stored = session.get(Source, row.id)
        if stored is not None:
            stored.catalog, stored.catalog_at = to_obj(catalog), utc_now()
    return catalog


def _run_discover(ctx: Control, view: ActorView) -> Catalog:
    from ferry.engine.connectors import source_runner

    try:
        return source_runner(view.definition.reference, actors.plain_config(ctx, view)).discover()
    except ConfigError as exc:
        raise InvalidInputError(
            f"the source could not discover its streams: {exc.message}",
            hint=exc.hint,
            field=f"configuration.{exc.field}" if exc.field else "sourceId",
        ) from None
