"""What the pages ask about connectors: the catalogue, one definition and its spec, and connection checks.

Definitions come from the definitions service; a check runs the connector the way a sync would
(`ferry.engine.connectors`), with a stored actor's secrets merged in when the form left them masked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ferry.cdk.secrets import Masker, mask
from ferry.cdk.spec import secret_values
from ferry.control.errors import NotFoundError
from ferry.control.services import actors, definitions
from ferry.control.services.context import Control, Principal
from ferry.control.store.models import Definition
from ferry.errors import FerryError
from ferry.protocol import ConnectionStatusValue

Kind = Literal["source", "destination"]
KINDS: tuple[Kind, Kind] = ("source", "destination")


@dataclass(frozen=True, slots=True)
class CheckResult:
    succeeded: bool
    message: str


def catalogue(ctx: Control, workspace_id: str, kind: Kind | None = None, query: str = "") -> list[Definition]:
    """Built-in and external definitions visible in a workspace, matching `query` in name or reference."""
    needle = query.strip().lower()
    found: list[Definition] = []
    with ctx.store.read() as session:
        for each in KINDS if kind is None else (kind,):
            found += definitions.list_visible(session, each, workspace_id)
    return [d for d in found if not needle or needle in d.name.lower() or needle in d.reference.lower()]


def definition(ctx: Control, who: Principal, kind: Kind, workspace_id: str, definition_id: str) -> Definition:
    who.require(workspace_id, "reader", "workspace", workspace_id)
    with ctx.store.read() as session:
        return definitions.resolve(session, kind, workspace_id, definition_id, None)


def spec(found: Definition) -> dict[str, Any]:
    try:
        return definitions.spec_of(found)
    except FerryError:
        # A connector that cannot say its spec still gets a form; saving it then reports why.
        return {}


def check(
    ctx: Control,
    who: Principal,
    kind: Kind,
    found: Definition,
    *,
    config: Mapping[str, Any],
    actor_id: str | None = None,
) -> CheckResult:
    """Runs the connector's check on `config`; a masked secret means the one stored on `actor_id`."""
    stored: Mapping[str, Any] | None = None
    if actor_id:
        view = actors.get(ctx, who, kind, actor_id)
        if view.definition.id != found.id:
            raise NotFoundError(kind, actor_id)
        stored = view.row.configuration
    schema = spec(found)
    hide = Masker()
    try:
        plain = ctx.box.open(ctx.box.seal(schema, config, stored))
        hide.add(secret_values(schema, plain))
        status = _runner(kind, found.reference, plain).check()
    except FerryError as exc:
        return CheckResult(False, hide(mask(str(exc))))
    if status.status is ConnectionStatusValue.SUCCEEDED:
        return CheckResult(True, "The connection works.")
    text = status.message or "The connector reported a failure without a message."
    return CheckResult(False, hide(mask(text)))


def _runner(kind: Kind, reference: str, config: Mapping[str, Any]) -> Any:
    from ferry.engine.connectors import destination_runner, source_runner

    if kind == "source":
        return source_runner(reference, config)
    return destination_runner(reference, config)
