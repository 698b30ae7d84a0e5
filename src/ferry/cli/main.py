"""`ferry`: run pipelines from files and try connectors by hand."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from ferry import __version__
from ferry.cli.apply_cmd import apply, export
from ferry.cli.connectors_cmd import register as register_connector_commands
from ferry.cli.serve_cmd import serve
from ferry.errors import ConfigError, FerryError

app = typer.Typer(
    name="ferry",
    help="Ferry: move data from sources to destinations, incrementally, without losing a row.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
connectors_app = typer.Typer(
    help="List the connectors Ferry knows; install and remove Airbyte connectors from PyPI.",
    no_args_is_help=True,
)
app.add_typer(connectors_app, name="connectors")
register_connector_commands(connectors_app)
app.command()(serve)
app.command()(apply)
app.command()(export)

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _fail(exc: FerryError | str, code: int = 1) -> NoReturn:
    from rich.markup import escape

    from ferry.cdk.secrets import mask

    # Escaped: messages quote user input such as ['updated_at'], which rich would read as markup.
    err.print(f"[bold red]error:[/] {escape(mask(str(exc)))}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print Ferry's version."""
    out.print(__version__)


@app.command()
def sync(
    pipeline: Annotated[Path, typer.Argument(help="Pipeline YAML file (source, destination, streams).")],
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Forget saved state and reload every stream.")
    ] = False,
    state: Annotated[
        Path | None, typer.Option(help="State file (default: .ferry/<pipeline>.state.json beside it).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live progress.")] = False,
    commit_every: Annotated[
        int | None,
        typer.Option(
            "--commit-every",
            min=0,
            help="Rows between destination commits (default 200,000); the source's checkpoints in between "
            "are checked and merged. 0 commits at every checkpoint.",
        ),
    ] = None,
) -> None:
    """Run a pipeline file once; the next run continues incrementally from the saved state."""
    from ferry.cli.progress import LiveProgress, state_note, summary
    from ferry.engine import FileStateStore, Sync, configure_catalog
    from ferry.engine.pipeline import load_pipeline, state_path_for
    from ferry.engine.sync import DEFAULT_COMMIT_ROWS

    commit_rows = DEFAULT_COMMIT_ROWS if commit_every is None else commit_every

    try:
        spec = load_pipeline(pipeline)
        source, destination = _runners(spec, pipeline, quiet)
        catalog = configure_catalog(source.discover(), spec.selections(), destination.supported_sync_modes)
    except FerryError as exc:
        _fail(exc, 2 if isinstance(exc, ConfigError) else 1)
    state_file = state or state_path_for(pipeline)
    store = FileStateStore(state_file)
    _stop_on_sigterm()
    if quiet or not err.is_terminal:
        result = Sync(
            source,
            destination,
            catalog,
            store,
            full_refresh=full_refresh,
            commit_rows=commit_rows,
            mapping=spec.mapping(),
        ).run()
    else:
        with LiveProgress(catalog, err) as progress:
            result = Sync(
                source,
                destination,
                catalog,
                store,
                full_refresh=full_refresh,
                observer=progress,
                commit_rows=commit_rows,
                mapping=spec.mapping(),
            ).run()
    out.print(summary(result, catalog))
    out.print(state_note(result, str(state_file)), soft_wrap=True)
    if result.error is not None:
        _fail(result.error, 2 if isinstance(result.error, ConfigError) else 1)


def _runners(spec: Any, pipeline: Path, quiet: bool) -> tuple[Any, Any]:
    """The pipeline's source and destination runners, with configs typed by their specs and with the
    config updates connectors made in earlier runs laid over them (.ferry/<name>.config-overrides.json)."""
    from ferry.cli.connectors_cmd import install_progress
    from ferry.engine.config_overrides import ConfigOverrides, overrides_path_for
    from ferry.engine.connectors import ConnectorOptions, resolve
    from ferry.engine.launcher import Limits

    overrides = ConfigOverrides(overrides_path_for(pipeline))
    limits = Limits.from_env()
    progress = None if quiet else install_progress(err)
    source_ref = resolve(
        spec.source.type,
        "source",
        ConnectorOptions(limits, lambda c: overrides.record("source", c), progress),
    )
    destination_ref = resolve(
        spec.destination.type,
        "destination",
        ConnectorOptions(limits, lambda c: overrides.record("destination", c), progress),
    )
    source = source_ref.source(overrides.apply("source", _typed_config(source_ref, spec.source.config)))
    destination = destination_ref.destination(
        overrides.apply("destination", _typed_config(destination_ref, spec.destination.config))
    )
    return source, destination


def _stop_on_sigterm() -> None:
    """SIGTERM ends a sync like Ctrl-C does, so its connectors are killed rather than left running."""
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _typed_config(resolved: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The config with ${VAR} texts turned into the numbers or booleans the connector's spec asks for.

    Interpolation always yields text, so `count: ${N}` would otherwise fail a spec wanting an integer.
    """
    from ferry.cdk.spec import typed_like_spec

    typed: dict[str, Any] = typed_like_spec(config, resolved.spec().connection_specification)
    return typed


def _connector(name: str) -> Any:
    """A connector by short name (sample-data) or by Airbyte-style name (source-sample-data)."""
    from ferry.connectors import registry

    kind, _, short = name.partition("-")
    if kind == "destination" and short:
        return registry.destination(short)
    if kind == "source" and short:
        return registry.source(short)
    if name in registry.names("source"):
        return registry.source(name)
    if name in registry.names("destination"):
        return registry.destination(name)
    sources, destinations = ", ".join(registry.names("source")), ", ".join(registry.names("destination"))
    raise ConfigError(
        f"unknown connector '{name}'", hint=f"Sources: {sources}. Destinations: {destinations}."
    )


def _run_protocol(name: str, argv: list[str]) -> None:
    from ferry.cdk import Source
    from ferry.cdk.entrypoint import launch

    if name.startswith(("pypi:", "command:", "docker:")):
        _run_external(name, argv)
        return
    try:
        connector = _connector(name)
    except FerryError as exc:
        _fail(exc, 2)
    if argv[0] in ("discover", "read") and not isinstance(connector, Source):
        _fail(f"'{name}' is a destination; `ferry {argv[0]}` needs a source", 2)
    code = launch(connector, argv)
    if code:
        raise typer.Exit(code)


def _run_external(reference: str, argv: list[str]) -> None:
    """An external connector run with the same Airbyte command line; its messages pass straight through."""
    import subprocess

    from ferry.cli.connectors_cmd import install_progress
    from ferry.engine.connectors import ConnectorOptions, resolve
    from ferry.engine.launcher import LocalProgram

    try:
        resolved = resolve(reference, "source", ConnectorOptions(progress=install_progress(err)))
        program = resolved.program
        if not isinstance(program, LocalProgram):
            raise ConfigError(
                f"`ferry {argv[0]}` runs PyPI and command: connectors; '{reference}' is a Docker image",
                hint=f"Run it with Docker itself: docker run --rm {reference.removeprefix('docker:')} spec.",
            )
    except FerryError as exc:
        _fail(exc, 2 if isinstance(exc, ConfigError) else 1)
    done = subprocess.run(program.argv(argv, Path.cwd()), env=program.environment(), check=False)
    if done.returncode:
        raise typer.Exit(done.returncode)


ConnectorArg = Annotated[
    str,
    typer.Argument(
        help="Connector name (sample-data), source-NAME / destination-NAME when both exist, "
        "or pypi:PACKAGE / command:PATH."
    ),
]
SourceArg = Annotated[
    str, typer.Argument(help="Source name, e.g. sample-data or source-file, or pypi:PACKAGE / command:PATH.")
]
ConfigOpt = Annotated[Path, typer.Option("--config", help="Connector config JSON file.")]


@app.command()
def spec(connector: ConnectorArg) -> None:
    """Print a connector's spec as an Airbyte SPEC message."""
    _run_protocol(connector, ["spec"])


@app.command()
def check(connector: ConnectorArg, config: ConfigOpt) -> None:
    """Check a connector config (CONNECTION_STATUS message)."""
    _run_protocol(connector, ["check", "--config", str(config)])


@app.command()
def discover(connector: SourceArg, config: ConfigOpt) -> None:
    """Print a source's catalog (CATALOG message)."""
    _run_protocol(connector, ["discover", "--config", str(config)])


@app.command()
def read(
    connector: SourceArg,
    config: ConfigOpt,
    catalog: Annotated[
        Path | None,
        typer.Option(help="Configured catalog JSON; default: every stream, full refresh + append."),
    ] = None,
    state: Annotated[Path | None, typer.Option(help="State JSON (array of state messages).")] = None,
) -> None:
    """Read records from a source as Airbyte messages on stdout."""
    argv = ["read", "--config", str(config)]
    default_catalog = _default_catalog(connector, config) if catalog is None else None
    argv += ["--catalog", str(catalog or default_catalog)]
    if state is not None:
        argv += ["--state", str(state)]
    try:
        _run_protocol(connector, argv)
    finally:
        if default_catalog is not None:
            default_catalog.unlink(missing_ok=True)


def _default_catalog(connector: str, config: Path) -> Path:
    import tempfile

    from ferry.cdk.entrypoint import load_config
    from ferry.protocol import ConfiguredCatalog, ConfiguredStream, dumps, to_obj

    try:
        if connector.startswith(("pypi:", "command:", "docker:")):
            from ferry.cdk.entrypoint import read_json_file
            from ferry.engine.connectors import resolve

            catalog = resolve(connector, "source").source(read_json_file(str(config), "config")).discover()
        else:
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
    except Exception as exc:
        if os.environ.get("FERRY_DEBUG"):
            raise
        from rich.markup import escape

        from ferry.cdk.secrets import mask

        # One line, as for every other error; the traceback is one environment variable away.
        text = escape(mask(f"{type(exc).__name__}: {exc}"))
        hint = "a bug in Ferry or a connector; set FERRY_DEBUG=1 for the traceback"
        err.print(
            f"[bold red]error:[/] internal error: {text} ({hint})",
            markup=True,
            soft_wrap=True,
        )
        sys.exit(1)
