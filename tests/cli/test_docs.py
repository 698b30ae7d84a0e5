"""Docs that can be checked are checked: the README's Quick start, and docs/cli.md against `ferry --help`."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.conftest import Ferry


def listed_commands(help_text: str) -> list[str]:
    """Command names from the 'Commands' panel of a `--help` screen."""
    panel = help_text.split("Commands", 1)[1] if "Commands" in help_text else ""
    return re.findall(r"^[│|] (\w[\w-]*) {2,}", panel, flags=re.MULTILINE)


def test_the_quick_start_is_exactly_make_demo_and_make_test(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```[a-z]*\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "the Quick start has no code block"
    assert blocks[0].strip().splitlines() == ["make demo", "make test"]
    assert len(blocks) == 1


def test_readme_commands_are_make_targets(repo_root: Path) -> None:
    makefile = (repo_root / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.MULTILINE))
    used = set(re.findall(r"\bmake ([a-z-]+)", (repo_root / "README.md").read_text()))
    assert used <= targets


def test_cli_reference_covers_every_command(ferry: Ferry, repo_root: Path) -> None:
    reference = (repo_root / "docs" / "cli.md").read_text()
    top = ferry("--help")
    commands = listed_commands(top.stdout)
    assert {"sync", "spec", "check", "discover", "read", "connectors"} <= set(commands), top.stdout
    for command in commands:
        sub = ferry(command, "--help")
        nested = listed_commands(sub.stdout)
        for name in nested or [""]:
            full = f"ferry {command} {name}".strip()
            assert f"`{full}" in reference, f"docs/cli.md does not document `{full}`"
