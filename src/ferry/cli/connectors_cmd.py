"""`ferry connectors list | install | remove`: built-in connectors, managed installs of Airbyte
connectors from PyPI, and the registry of known external connectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from ferry.engine.installs import Install, Progress
    from ferry.engine.known_connectors import KnownConnector

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def install_progress(console: Console = err) -> Progress:
    """Prints an install's steps on `console` (stderr), so a first sync shows why it takes a while."""

    def report(line: str) -> None:
        console.print(f"[dim]{escape(line)}[/]", markup=True, soft_wrap=True)

    return report


def _fail(exc: Exception, code: int) -> NoReturn:
    from ferry.cdk.secrets import mask

    err.print(f"[bold red]error:[/] {escape(mask(str(exc)))}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def _package_of(ref: str) -> tuple[str, str | None]:
    """(package, version) from pypi:PACKAGE[==VERSION] or a known connector's name (faker, source-faker)."""
    from ferry.engine import known_connectors
    from ferry.engine.connectors import parse_reference
    from ferry.errors import ConfigError

    reference = parse_reference(ref)
    if reference.kind == "pypi":
        return reference.target, reference.version
    if reference.kind == "builtin":
        for kind in ("source", "destination"):
            known = known_connectors.by_name(ref, kind)
            if known is not None and known.package:
                return known.package, known.version
    what = {
        "docker": "Docker images are pulled by Docker itself",
        "command": "a command: connector is a program you provide",
    }
    raise ConfigError(
        f"'{ref}' is not a PyPI connector Ferry can install"
        + (f" ({what[reference.kind]})" if reference.kind in what else ""),
        hint="Give pypi:PACKAGE[==VERSION] or a known name; `ferry connectors list --all` shows them.",
    )


def install(
    reference: Annotated[
        str, typer.Argument(help="pypi:PACKAGE[==VERSION], or a known connector's name (faker).")
    ],
) -> None:
    """Install an Airbyte connector from PyPI into its own virtualenv (once per package and version)."""
    from ferry.engine.installs import ensure_installed
    from ferry.errors import ConfigError, FerryError

    try:
        package, version = _package_of(reference)
        done = ensure_installed(package, version, install_progress())
    except FerryError as exc:
        _fail(exc, 2 if isinstance(exc, ConfigError) else 1)
    out.print(f"{done.package} {done.version} is installed in {done.path}", soft_wrap=True)
    out.print(f"Use it in a pipeline as `type: pypi:{done.package}=={done.version}`.", soft_wrap=True)


def remove(
    reference: Annotated[
        str, typer.Argument(help="pypi:PACKAGE[==VERSION] (every version when none is given).")
    ],
) -> None:
    """Remove managed installs of a connector."""
    from ferry.engine import installs
    from ferry.errors import ConfigError, FerryError

    try:
        package, version = _package_of(reference)
        if reference.startswith("pypi:") and "==" not in reference:
            version = None  # an unpinned pypi: reference removes every version
        removed = installs.remove(package, version)
    except FerryError as exc:
        _fail(exc, 2 if isinstance(exc, ConfigError) else 1)
    if not removed:
        _fail(ConfigError(f"{package}{'==' + version if version else ''} is not installed"), 2)
    for install in removed:
        out.print(f"removed {install.package} {install.version} ({install.path})", soft_wrap=True)


def list_connectors(
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list the known Airbyte connectors Ferry can install or pull.")
    ] = False,
    search: Annotated[
        str | None, typer.Option("--search", help="Only connectors whose name contains TEXT.")
    ] = None,
) -> None:
    """Sources and destinations: built-in (and plug-ins), installed from PyPI, with --all the known ones."""
    from ferry.engine import installs, known_connectors

    out.print(_builtins_table(search))
    managed = [i for i in installs.installed() if not search or search.lower() in i.package]
    if managed:
        out.print(_installed_table(managed))
    if show_all:
        out.print(_known_table(known_connectors.search(search)))


def _builtins_table(search: str | None) -> Table:
    from ferry.connectors import registry

    rows: list[tuple[str, str, str, str]] = []
    for kind in ("source", "destination"):
        for name in registry.names(kind):
            if search and search.lower() not in name.lower():
                continue
            try:
                connector = registry.source(name) if kind == "source" else registry.destination(name)
            except Exception as exc:  # a broken plug-in must not hide the others
                rows.append((kind, name, f"cannot be loaded: {type(exc).__name__}: {exc}", ""))
                continue
            about = " ".join((type(connector).__doc__ or "").strip().split("\n\n")[0].split())
            rows.append((kind, name, about, connector.documentation_url or ""))
    return _table("connectors", ("kind", "name", "description", "documentation"), rows)


def _installed_table(managed: list[Install]) -> Table:
    rows = [("pypi", f"pypi:{i.package}=={i.version}", str(i.path), "") for i in managed]
    return _table("installed from PyPI", ("from", "reference", "location", ""), rows)


def _known_table(known: list[KnownConnector]) -> Table:
    rows = [(c.kind, c.name, c.reference, c.documentation_url or "") for c in known]
    return _table(
        "known Airbyte connectors (ferry connectors install NAME)",
        ("kind", "name", "reference", "documentation"),
        rows,
    )


def _table(title: str, columns: tuple[str, ...], rows: Sequence[tuple[str, str, str, str]]) -> Table:
    used = [i for i, _ in enumerate(columns) if any(row[i] for row in rows) or i < 2]
    table = Table(title=title, title_justify="left")
    for i in used:
        table.add_column(columns[i])
    for row in rows:
        # Text, not markup: descriptions and errors may hold square brackets.
        table.add_row(*(Text(row[i]) for i in used))
    return table


def register(app: typer.Typer) -> None:
    app.command("list")(list_connectors)
    app.command("install")(install)
    app.command("remove")(remove)
