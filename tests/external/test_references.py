"""Connector references: built-in names, pypi:, command: and docker:, and what a wrong one says."""

from __future__ import annotations

import sys

import pytest

from ferry.engine.connectors import parse_reference, resolve
from ferry.engine.launcher import LocalProgram
from ferry.errors import ConfigError
from tests.external.conftest import fake


@pytest.mark.parametrize(
    ("text", "kind", "target", "version", "args"),
    [
        ("duckdb", "builtin", "duckdb", None, ()),
        ("pypi:airbyte-source-faker==7.2.1", "pypi", "airbyte-source-faker", "7.2.1", ()),
        ("pypi:Airbyte_Source.Faker", "pypi", "airbyte-source-faker", None, ()),
        ("command:./bin/conn --mode 'a b'", "command", "./bin/conn", None, ("--mode", "a b")),
        ("docker:airbyte/source-faker:6.2.0", "docker", "airbyte/source-faker:6.2.0", None, ()),
        ("docker:localhost:5000/team/source-x:1.0", "docker", "localhost:5000/team/source-x:1.0", None, ()),
    ],
)
def test_references_parse(
    text: str, kind: str, target: str, version: str | None, args: tuple[str, ...]
) -> None:
    ref = parse_reference(text)
    assert (ref.kind, ref.target, ref.version, ref.args) == (kind, target, version, args)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("pypi:airbyte-source-faker>=7", "one exact version"),
        ("pypi:", "names nothing"),
        ("pypi:bad$name", "not a valid PyPI package name"),
        ("docker:airbyte/source-faker", "has no tag"),
        ("command:", "names nothing"),
    ],
)
def test_bad_references_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_reference(text)


def test_docker_without_an_engine_is_a_clear_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve("docker:airbyte/source-faker:6.2.0", "source")
    assert "Docker" in str(caught.value)
    assert "pypi:" in str(caught.value)  # the way out


def test_a_missing_command_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not found"):
        resolve("command:./no/such/program", "source")


def test_a_command_resolves_to_a_local_program_and_its_spec() -> None:
    resolved = resolve(fake("source"), "source")
    assert isinstance(resolved.program, LocalProgram)
    assert resolved.program.command[0] == sys.executable
    assert "api_token" in resolved.spec().connection_specification["properties"]


def test_a_known_connector_name_that_is_not_built_in_points_to_its_package() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve("faker", "source").spec()
    assert "pypi:airbyte-source-faker==7.2.1" in str(caught.value)
