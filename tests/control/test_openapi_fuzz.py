"""A bounded property-based run of schemathesis against the served OpenAPI document: no 500s anywhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.control.conftest import Server


@pytest.mark.slow
def test_fuzzing_the_public_api_finds_no_server_errors(server: Server, tmp_path: Path) -> None:
    if server.env.get("FERRY_DATABASE_URL"):
        pytest.skip("one fuzz run is enough; it runs against the SQLite server")
    st = Path(sys.executable).parent / "st"
    command = [
        str(st),
        "run",
        f"{server.public}/openapi.json",
        "--url",
        server.url,
        "--checks",
        "not_a_server_error",
        "--header",
        f"Authorization: Bearer {server.token()}",
        "--max-examples",
        "8",
        "--seed",
        "20240601",
        "--max-time",
        "60",
        "--phases",
        "examples,coverage,fuzzing",
        "--generation-database",
        "none",
        "--no-color",
        "--report-dir",
        str(tmp_path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "500" not in server.log_text() or "Internal Server Error" not in server.log_text()
