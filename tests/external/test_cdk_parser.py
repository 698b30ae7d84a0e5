"""Ferry's built-in connectors, run standalone with Airbyte's CLI, write output that the real Airbyte Python
CDK's message parser accepts (the airbyte-cdk that comes with faker's managed install)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PARSE = """
import sys, orjson
from airbyte_cdk.models import AirbyteMessageSerializer
kinds = {}
for line in sys.stdin.buffer:
    message = AirbyteMessageSerializer.load(orjson.loads(line))
    kinds[message.type.value] = kinds.get(message.type.value, 0) + 1
print(orjson.dumps(kinds).decode())
"""


def ferry_connector(*args: str, stdin: bytes | None = None) -> bytes:
    script = Path(sys.executable).parent / "ferry-connector"
    done = subprocess.run([str(script), *args], input=stdin, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def cdk_parse(install: Any, output: bytes) -> dict[str, int]:
    done = subprocess.run(
        [str(install.python), "-c", PARSE], input=output, capture_output=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    kinds: dict[str, int] = json.loads(done.stdout)
    return kinds


@pytest.mark.slow
@pytest.mark.xdist_group("faker")
def test_builtin_source_and_destination_output_parses_with_the_airbyte_cdk(
    tmp_path: Path, faker_install: Any
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"count": 50, "records_per_checkpoint": 20}))
    catalog_out = ferry_connector("source-sample-data", "discover", "--config", str(config))
    assert cdk_parse(faker_install, catalog_out) == {"CATALOG": 1}
    streams = json.loads(catalog_out)["catalog"]["streams"]
    configured = {
        "streams": [
            {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "append"} for s in streams
        ]
    }
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(configured))
    spec_out = ferry_connector("source-sample-data", "spec")
    assert cdk_parse(faker_install, spec_out) == {"SPEC": 1}

    read_out = ferry_connector(
        "source-sample-data", "read", "--config", str(config), "--catalog", str(catalog)
    )
    kinds = cdk_parse(faker_install, read_out)
    assert kinds["RECORD"] == 50 * len(streams)
    assert kinds["STATE"] >= len(streams)
    assert kinds["TRACE"] >= 3 * len(streams)  # STARTED, RUNNING, COMPLETE per stream

    destination = tmp_path / "dest.json"
    destination.write_text(json.dumps({"path": str(tmp_path / "out.duckdb")}))
    echoed = ferry_connector(
        "destination-duckdb", "write", "--config", str(destination), "--catalog", str(catalog), stdin=read_out
    )
    assert cdk_parse(faker_install, echoed)["STATE"] == kinds["STATE"]
    check_out = ferry_connector("destination-duckdb", "check", "--config", str(destination))
    assert cdk_parse(faker_install, check_out) == {"CONNECTION_STATUS": 1}
