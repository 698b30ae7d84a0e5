"""`ferry apply DIR` and `ferry export DIR`: pipelines as files, in and out of a server's store.

Both work on the store directly, as `ferry serve` on this machine does: the database in FERRY_HOME
(or FERRY_DATABASE_URL), with the secret key from FERRY_SECRET_KEY or the key file in FERRY_HOME.
A running server sees the changes at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from ferry.control.services.context import Control
    from ferry.errors import FerryError

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
_COLOURS = {"created": "green", "updated": "yellow", "unchanged": "dim"}


def apply(
    directory: Annotated[Path, typer.Argument(help="A directory of pipeline .yaml files, or one file.")],
) -> None:
    """Create or update sources, destinations and connections from pipeline files (idempotent)."""
    from ferry.control import pipeline_files
    from ferry.control.services import pipelines
    from ferry.errors import FerryError

    try:
        # Every file is read and checked before the store is touched: one bad file applies nothing.
        loaded = [(p, pipeline_files.load(p)) for p in pipeline_files.pipeline_files(directory)]
        with _store() as ctx:
            for path, pipeline in loaded:
                changes = pipelines.apply(ctx, pipeline, default_name=path.stem)
                summary = ", ".join(
                    f"[{_COLOURS[c.action]}]{c.kind} '{c.name}' {c.action}[/]" for c in changes
                )
                out.print(f"{path.name}: {summary}", soft_wrap=True)
    except FerryError as exc:
        _fail(exc)


def export(
    directory: Annotated[Path, typer.Argument(help="Where to write one pipeline file per connection.")],
    workspace: Annotated[str | None, typer.Option(help="Only this workspace (by name).")] = None,
) -> None:
    """Write every connection back as a pipeline file; secrets become ${ENV_VAR} placeholders."""
    from ferry.control.services import pipelines
    from ferry.errors import FerryError

    try:
        with _store() as ctx:
            written = pipelines.export(ctx, directory, workspace)
    except FerryError as exc:
        _fail(exc)
    for item in written:
        out.print(str(item.path), soft_wrap=True)
    variables = sorted({v for item in written for v in item.variables})
    if variables:
        out.print(f"Set these variables before `ferry apply`: {', '.join(variables)}", soft_wrap=True)
    if not written:
        err.print("no connections to export")


@contextmanager
def _store() -> Iterator[Control]:
    """The control plane on the store `ferry serve` would use here."""
    from ferry.control.app import open_control
    from ferry.control.settings import Settings

    ctx = open_control(Settings.from_env())
    try:
        yield ctx
    finally:
        ctx.store.dispose()


def _fail(exc: FerryError) -> NoReturn:
    from rich.markup import escape

    from ferry.cdk.secrets import mask
    from ferry.errors import ConfigError

    err.print(f"[bold red]error:[/] {escape(mask(str(exc)))}", soft_wrap=True)
    raise typer.Exit(2 if isinstance(exc, ConfigError) else 1)
