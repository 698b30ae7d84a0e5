"""What to execute for a connector: a local program (an installed script, any command) or a Docker image.

A program turns an Airbyte command (`read --config FILE ...`) into an argv, and says how the
connector sees the files Ferry writes into its private directory.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

# Variables that would make a connector's own virtualenv import Ferry's packages instead of its own.
_PYTHON_LEAKS = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONSAFEPATH")


class Program(Protocol):
    @property
    def name(self) -> str:
        """How messages and errors name the connector (its reference)."""
        ...

    def argv(self, args: Sequence[str], workdir: Path) -> list[str]:
        """The full command line for Airbyte arguments `args` (file arguments already mapped)."""
        ...

    def file_path(self, workdir: Path, filename: str) -> str:
        """The path under which the connector reads `filename` from Ferry's private directory."""
        ...

    def environment(self) -> dict[str, str]: ...

    def after_kill(self, workdir: Path) -> None:
        """Clean up what killing the local process group leaves behind (a container)."""
        ...


@dataclass(frozen=True, slots=True)
class LocalProgram:
    """An executable on this machine, run with the caller's environment (minus Python leaks if asked)."""

    name: str
    command: tuple[str, ...]
    isolate_python: bool = False
    extra_env: Mapping[str, str] = field(default_factory=dict)

    def argv(self, args: Sequence[str], workdir: Path) -> list[str]:
        return [*self.command, *args]

    def file_path(self, workdir: Path, filename: str) -> str:
        return str(workdir / filename)

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.isolate_python:
            for key in _PYTHON_LEAKS:
                env.pop(key, None)
        env.update(self.extra_env)
        return env

    def after_kill(self, workdir: Path) -> None:
        pass


CONTAINER_DIR = "/airbyte/ferry"


@dataclass(frozen=True, slots=True)
class DockerProgram:
    """An Airbyte connector image, run with `docker run` as this user so it can read the 0700 directory."""

    name: str
    image: str
    docker: str = "docker"

    def _container(self, workdir: Path) -> str:
        return f"ferry-{workdir.name.replace('_', '-').lower()}"

    def argv(self, args: Sequence[str], workdir: Path) -> list[str]:
        user = f"{os.getuid()}:{os.getgid()}"
        return [
            self.docker, "run", "--rm", "-i", "--init", "--name", self._container(workdir),
            "--user", user, "-v", f"{workdir}:{CONTAINER_DIR}:ro", self.image, *args,
        ]  # fmt: skip

    def file_path(self, workdir: Path, filename: str) -> str:
        return f"{CONTAINER_DIR}/{filename}"

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def after_kill(self, workdir: Path) -> None:
        # Killing the `docker run` client does not stop the container; removing it does.
        subprocess.run(
            [self.docker, "rm", "-f", self._container(workdir)],
            capture_output=True,
            timeout=60,
            check=False,
        )
