"""Resolves a connector reference (`type:` in a pipeline, a CLI argument) to a runner the engine can drive.

A reference is one of:
- a built-in short name (`duckdb`, `sample-data`), run in-process;
- `pypi:PACKAGE[==VERSION]`, installed into a managed virtualenv (once) and run as a subprocess;
  without a version, the installed one, else the registry's default, else PyPI's newest;
- `command:PATH [ARGS]`, any executable that speaks the Airbyte protocol;
- `docker:IMAGE:TAG`, an Airbyte connector image, when a Docker engine is reachable.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ferry.connectors import registry
from ferry.engine import installs, known_connectors
from ferry.engine.launcher import (
    DockerProgram,
    Limits,
    LocalProgram,
    Program,
    SubprocessDestination,
    SubprocessSource,
)
from ferry.engine.launcher.commands import ConnectorCommands, SpecStore
from ferry.engine.launcher.control import ConfigCallback
from ferry.engine.launcher.docker import require_engine, split_image
from ferry.engine.runners import DestinationRunner, InProcessDestination, InProcessSource, SourceRunner
from ferry.errors import ConfigError
from ferry.protocol import ConnectorSpecification

Role = Literal["source", "destination"]
RefKind = Literal["builtin", "pypi", "command", "docker"]
PREFIXES: tuple[str, ...] = ("pypi:", "command:", "docker:")


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed reference. `target`: built-in name, package, program path or image; `version`: the PyPI
    version (None: unpinned); `args`: a command's fixed arguments."""

    text: str
    kind: RefKind
    target: str
    version: str | None = None
    args: tuple[str, ...] = field(default=())

    @property
    def external(self) -> bool:
        return self.kind != "builtin"


def parse_reference(text: str) -> Reference:
    """Parse a reference; ConfigError says what a valid one looks like."""
    ref = text.strip()
    scheme, sep, rest = ref.partition(":")
    if not sep or scheme not in ("pypi", "command", "docker"):
        if not ref:
            raise ConfigError(
                "a connector reference is empty",
                hint="Name a built-in (duckdb) or use pypi:, command: or docker:.",
            )
        return Reference(ref, "builtin", ref)
    rest = rest.strip()
    if not rest:
        raise ConfigError(f"connector reference '{ref}' names nothing after '{scheme}:'", hint=_EXAMPLES)
    if scheme == "pypi":
        package, _, version = rest.partition("==")
        if any(c in package for c in "<>=!~ ;[") or (version and any(c in version for c in "<>=!~ ,;")):
            raise ConfigError(
                f"connector reference '{ref}' may pin one exact version only",
                hint="Write pypi:PACKAGE or pypi:PACKAGE==VERSION, e.g. pypi:airbyte-source-faker==7.2.1.",
            )
        return Reference(
            ref, "pypi", installs.canonical(package), installs.check_version(version) if version else None
        )
    if scheme == "command":
        try:
            words = shlex.split(rest)
        except ValueError as exc:
            raise ConfigError(
                f"connector reference '{ref}' cannot be split into words: {exc}", hint=_EXAMPLES
            ) from None
        return Reference(ref, "command", words[0], None, tuple(words[1:]))
    split_image(rest)  # raises when the tag is missing
    return Reference(ref, "docker", rest)


_EXAMPLES = (
    "Examples: duckdb, pypi:airbyte-source-faker==7.2.1, command:./my-connector --flag, "
    "docker:airbyte/source-faker:6.2.0."
)


@dataclass(slots=True)
class ConnectorOptions:
    """How external connectors run: limits, where config updates go, install progress, refresh support."""

    limits: Limits = field(default_factory=Limits)
    on_config_change: ConfigCallback | None = None
    progress: installs.Progress | None = None
    supports_refreshes: bool = False


class Resolved:
    """A reference made runnable: its spec can be read before a config exists (to type the config)."""

    def __init__(self, reference: Reference, role: Role, options: ConnectorOptions | None = None) -> None:
        self.reference = reference
        self.role = role
        self.options = options or ConnectorOptions()
        self._program: Program | None = None
        self._spec_store: SpecStore | None = None
        self._spec: ConnectorSpecification | None = None
        if reference.external:
            self._program, self._spec_store = _program(reference, role, self.options)

    @property
    def name(self) -> str:
        return self.reference.text

    @property
    def program(self) -> Program | None:
        """What runs an external connector (None for a built-in)."""
        return self._program

    def spec(self) -> ConnectorSpecification:
        if self._spec is None:
            if self._program is None:
                self._spec = _builtin(self.reference.target, self.role).spec()
            else:
                commands = ConnectorCommands(
                    self._program, self.role, {}, limits=self.options.limits, spec_store=self._spec_store
                )
                self._spec = commands.spec()
        return self._spec

    def source(self, config: Mapping[str, Any]) -> SourceRunner:
        if self._program is None:
            return InProcessSource(_builtin(self.reference.target, "source"), config)
        return SubprocessSource(
            self._program,
            config,
            limits=self.options.limits,
            spec_store=self._spec_store,
            on_config_change=self.options.on_config_change,
            spec=self._spec,
        )

    def destination(self, config: Mapping[str, Any]) -> DestinationRunner:
        if self._program is None:
            return InProcessDestination(_builtin(self.reference.target, "destination"), config)
        return SubprocessDestination(
            self._program,
            config,
            limits=self.options.limits,
            spec_store=self._spec_store,
            on_config_change=self.options.on_config_change,
            supports_refreshes=self.options.supports_refreshes,
            spec=self._spec,
        )


def _builtin(name: str, role: Role) -> Any:
    try:
        return registry.source(name) if role == "source" else registry.destination(name)
    except ConfigError as exc:
        hint = _known_hint(name, role)
        if hint:
            exc.hint = hint
        raise


def _known_hint(name: str, role: Role) -> str | None:
    known = known_connectors.by_name(name, role)
    if known is None:
        return None
    return f"'{name}' is not built in; the Airbyte connector runs as `type: {known.reference}`."


def _program(reference: Reference, role: Role, options: ConnectorOptions) -> tuple[Program, SpecStore | None]:
    if reference.kind == "pypi":
        version = reference.version
        if version is None and installs.find(reference.target) is None:
            default = known_connectors.by_package(reference.target)
            version = default.version if default else None
        install = installs.ensure_installed(reference.target, version, options.progress)
        program = LocalProgram(reference.text, install.command(), isolate_python=True)
        return program, (install.cached_spec, install.save_spec)
    if reference.kind == "command":
        return LocalProgram(reference.text, (_executable(reference), *reference.args)), None
    require_engine()
    return DockerProgram(reference.text, reference.target), None


def _executable(reference: Reference) -> str:
    path = reference.target
    found = shutil.which(path) if "/" not in path else (path if Path(path).is_file() else None)
    if found is None:
        raise ConfigError(
            f"connector program '{path}' not found" + ("" if "/" in path else " on the PATH"),
            hint="command: takes an executable's path (relative to where ferry runs), then its arguments.",
        )
    if not shutil.which(str(Path(found).resolve())):
        raise ConfigError(f"connector program '{path}' is not executable", hint=f"Run `chmod +x {path}`.")
    return str(Path(found).absolute()) if "/" in path else found


def resolve(ref: str, role: Role, options: ConnectorOptions | None = None) -> Resolved:
    return Resolved(parse_reference(ref), role, options)


def source_runner(
    ref: str, config: Mapping[str, Any], options: ConnectorOptions | None = None
) -> SourceRunner:
    return resolve(ref, "source", options).source(config)


def destination_runner(
    ref: str, config: Mapping[str, Any], options: ConnectorOptions | None = None
) -> DestinationRunner:
    return resolve(ref, "destination", options).destination(config)
