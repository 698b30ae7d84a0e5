"""`ferry`: run pipelines from files and try connectors by hand."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from ferry import __version__
from ferry.errors import ConfigError, FerryError

app = typer.Typer(
    name="ferry", help="Ferry: move data from sources to destinations, incrementally, without losing a row.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
connectors_app = typer.Typer(help="List the connectors Ferry knows.", no_args_is_help=True)
app.add_typer(connectors_app, name="connectors")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _fail(exc: FerryError | str, code: int = 1) -> NoReturn:
    from ferry.cdk.secrets import mask

    err.print(f"[bold red]error:[/] {mask(str(exc))}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print Ferry's version."""
    out.print(__version__)


@app.command()
def sync(
    pipeline: Annotated[Path, typer.Argument(help="Pipeline YAML file (source, destination, streams).")],
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Forget saved state and reload every stream.")] = False,
    state: Annotated[Path | None, typer.Option(help="State file (default: .ferry/<pipeline>.state.json beside it).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress.")] = False,
) -> None:
    """Run a pipeline file once; the next run continues incrementally from the saved state."""
    from ferry.cli.progress import LiveProgress, summary
    from ferry.engine import FileStateStore, Sync, configure_catalog
    from ferry.engine.connectors import destination_runner, source_runner
    from ferry.engine.pipeline import load_pipeline, state_path_for

    try:
        spec = load_pipeline(pipeline)
        source = source_runner(spec.source.type, spec.source.config)
        destination = destination_runner(spec.destination.type, spec.destination.config)
        catalog = configure_catalog(source.discover(), spec.selections(), destination.supported_sync_modes)
    except FerryError as exc:
        _fail(exc, 2 if isinstance(exc, ConfigError) else 1)
    store = FileStateStore(state or state_path_for(pipeline))
    if quiet or not err.is_terminal:
        result = Sync(source, destination, catalog, store, full_refresh=full_refresh).run()
    else:
        with LiveProgress(catalog, err) as progress:
            result = Sync(source, destination, catalog, store, full_refresh=full_refresh, observer=progress).run()
    out.print(summary(result, catalog))
    if result.error is not None:
        _fail(result.error, 2 if isinstance(result.error, ConfigError) else 1)


@connectors_app.command("list")
def connectors_list() -> None:
    """Built-in sources and destinations."""
    from ferry.connectors import registry

    table = Table(title="connectors", title_justify="left")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("documentation")
    for kind in ("source", "destination"):
        for name in registry.names(kind):
            connector = registry.source(name) if kind == "source" else registry.destination(name)
            table.add_row(kind, name, connector.documentation_url or "")
    out.print(table)


def _connector(name: str) -> Any:
    from ferry.connectors import registry

    kind, _, short = name.partition("-")
    if kind == "destination" and short:
        return registry.destination(short)
    if kind == "source" and short:
        return registry.source(short)
    if name in registry.names("source"):
        return registry.source(name)
    return registry.destination(name)


def _run_protocol(name: str, argv: list[str]) -> None:
    from ferry.cdk.entrypoint import launch

    try:
        connector = _connector(name)
    except FerryError as exc:
        _fail(exc, 2)
    code = launch(connector, argv)
    if code:
        raise typer.Exit(code)


ConfigOpt = Annotated[Path, typer.Option("--config", help="Connector config JSON file.")]


@app.command()
def spec(connector: Annotated[str, typer.Argument(help="Connector name, e.g. sample-data or destination-duckdb.")]) -> None:
    """Print a connector's spec as an Airbyte SPEC message."""
    _run_protocol(connector, ["spec"])


@app.command()
def check(connector: str, config: ConfigOpt) -> None:
    """Check a connector config (CONNECTION_STATUS message)."""
    _run_protocol(connector, ["check", "--config", str(config)])


@app.command()
def discover(connector: str, config: ConfigOpt) -> None:
    """Print a source's catalog (CATALOG message)."""
    _run_protocol(connector, ["discover", "--config", str(config)])


@app.command()
def read(
    connector: str,
    config: ConfigOpt,
    catalog: Annotated[Path | None, typer.Option(help="Configured catalog JSON; default: every stream, full refresh.")] = None,
    state: Annotated[Path | None, typer.Option(help="State JSON (array of state messages).")] = None,
) -> None:
    """Read records from a source as Airbyte messages on stdout."""
    argv = ["read", "--config", str(config)]
    if catalog is None:
        catalog = _default_catalog(connector, config)
    argv += ["--catalog", str(catalog)]
    if state is not None:
        argv += ["--state", str(state)]
    _run_protocol(connector, argv)


def _default_catalog(connector: str, config: Path) -> Path:
    import tempfile

    from ferry.cdk.entrypoint import load_config
    from ferry.protocol import ConfiguredCatalog, ConfiguredStream, dumps, to_obj

    try:
        source = _connector(connector)
        catalog = source.discover(load_config(source, str(config)))
    except FerryError as exc:
        _fail(exc, 2)
    configured = ConfiguredCatalog([ConfiguredStream(stream=s) for s in catalog.streams])
    handle = tempfile.NamedTemporaryFile("wb", suffix=".catalog.json", delete=False)  # noqa: SIM115 - handed to the reader by path
    with handle:
        handle.write(dumps(to_obj(configured)))
    return Path(handle.name)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
