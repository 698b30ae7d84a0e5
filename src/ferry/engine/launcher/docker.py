"""`docker:IMAGE:TAG` references: parse the image, and refuse clearly when no Docker engine is reachable."""

from __future__ import annotations

import shutil
import subprocess

from ferry.errors import ConfigError

_HINT = "Start Docker (or set DOCKER_HOST), or run the connector as pypi:PACKAGE==VERSION or command:PATH."


def split_image(image: str) -> tuple[str, str]:
    """(repository, tag or digest) of `image`; a tag is required so that a sync is reproducible."""
    if "@" in image:
        repository, _, digest = image.partition("@")
        if repository and digest:
            return repository, digest
    else:
        repository, sep, tag = image.rpartition(":")
        if sep and repository and tag and "/" not in tag:
            return repository, tag
    raise ConfigError(
        f"docker image '{image}' has no tag",
        hint=f"Name a version, e.g. docker:{image.split('@', maxsplit=1)[0]}:1.0.0 (see its releases).",
    )


def require_engine(docker: str = "docker") -> None:
    """Raise ConfigError unless `docker info` reaches a running engine."""
    if shutil.which(docker) is None:
        raise ConfigError(
            "docker: connectors need Docker, and the `docker` command is not installed", hint=_HINT
        )
    try:
        done = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(
            "no Docker engine is reachable: `docker info` did not answer in 20s", hint=_HINT
        ) from None
    if done.returncode != 0 or not done.stdout.strip():
        reason = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        raise ConfigError(f"no Docker engine is reachable ({reason})", hint=_HINT)
