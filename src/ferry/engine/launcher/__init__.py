"""Runs external connectors as subprocesses (managed installs, commands, Docker images) behind the engine's
one runner interface: Airbyte's exact CLI, private files, process groups, timeouts, the JSON boundary."""

from ferry.engine.launcher.destination import SubprocessDestination
from ferry.engine.launcher.limits import Limits
from ferry.engine.launcher.process import ConnectorProcess, group_members
from ferry.engine.launcher.programs import DockerProgram, LocalProgram, Program
from ferry.engine.launcher.source import SubprocessSource

__all__ = [
    "ConnectorProcess",
    "DockerProgram",
    "Limits",
    "LocalProgram",
    "Program",
    "SubprocessDestination",
    "SubprocessSource",
    "group_members",
]
