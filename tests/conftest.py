"""Shared test settings: hypothesis timing, and where the virtualenv's console scripts live."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Two busy CI cores make per-example timings noisy; correctness, not speed, is what these examples test.
settings.register_profile("ferry", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ferry")


@pytest.fixture(scope="session")
def venv_bin() -> Path:
    """The folder holding this interpreter's console scripts (ferry-connector, lint-imports, ...)."""
    return Path(sys.executable).parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
