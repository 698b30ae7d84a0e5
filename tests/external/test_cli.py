"""`ferry sync` with external connectors as a user runs it: exit codes, config updates kept across runs,
timeouts from the environment; and `ferry spec|discover` on a command: connector."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.cli.conftest import Ferry, summary
from tests.external.conftest import fake, write_pipeline


def pipeline(tmp_path: Path, **source: object) -> Path:
    config = {"records": 10, "per_state": 5, **source}
    return write_pipeline(
        tmp_path,
        {
            "source": {"type": fake("source"), "config": config},
            "destination": {"type": "duckdb", "config": {"path": str(tmp_path / "w.duckdb")}},
        },
    )


def test_a_crashing_source_exits_1_with_one_error_line(ferry_cli: Ferry, tmp_path: Path) -> None:
    run = ferry_cli("sync", pipeline(tmp_path, crash_after=7), "--commit-every", "0")
    assert run.code == 1
    (line,) = [text for text in run.stderr.splitlines() if text.startswith("error:")]
    assert "exited with code 3" in line
    assert summary(run.stdout)["items"] == (5, 5)  # the records after the last checkpoint are dropped


def test_a_config_error_trace_exits_2(ferry_cli: Ferry, tmp_path: Path) -> None:
    run = ferry_cli("sync", pipeline(tmp_path, error_trace=True))
    assert run.code == 2
    assert "the API token expired" in run.stderr


def test_a_hang_is_cut_short_by_the_heartbeat_limit(ferry_cli: Ferry, tmp_path: Path) -> None:
    run = ferry_cli("sync", pipeline(tmp_path, hang_after=3), env={"FERRY_HEARTBEAT_TIMEOUT": "1"})
    assert run.code == 1
    assert "produced no output for 1s" in run.stderr


def test_config_updates_are_kept_beside_the_state_and_used_next_time(
    ferry_cli: Ferry, tmp_path: Path
) -> None:
    seen = tmp_path / "seen.json"
    file = pipeline(
        tmp_path,
        api_token="first-token-1111",
        control={"api_token": "rotated-token-2222"},
        echo_config_to=str(seen),
    )
    first = ferry_cli("sync", file)
    assert first.code == 0, first.stderr
    overrides = tmp_path / ".ferry" / "pipeline.config-overrides.json"
    assert json.loads(overrides.read_text()) == {"source": {"api_token": "rotated-token-2222"}}
    assert stat.S_IMODE(overrides.stat().st_mode) == 0o600
    assert json.loads(seen.read_text())["config"]["api_token"] == "first-token-1111"

    second = ferry_cli("sync", file)
    assert second.code == 0, second.stderr
    assert json.loads(seen.read_text())["config"]["api_token"] == "rotated-token-2222"
    assert "rotated-token-2222" not in second.stdout + second.stderr


def test_spec_and_discover_run_a_command_connector(ferry_cli: Ferry, tmp_path: Path) -> None:
    spec = ferry_cli("spec", fake("source"))
    assert spec.code == 0, spec.stderr
    assert spec.messages()[0]["type"] == "SPEC"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"streams": ["a", "b"]}))
    discovered = ferry_cli("discover", fake("source"), "--config", config)
    assert [s["name"] for s in discovered.messages()[0]["catalog"]["streams"]] == ["a", "b"]
    read = ferry_cli("read", fake("source"), "--config", config)
    assert read.code == 0, read.stderr
    assert sum(m["type"] == "RECORD" for m in read.messages()) == 20


def test_connectors_list_all_shows_the_known_airbyte_connectors(ferry_cli: Ferry) -> None:
    everything = ferry_cli("connectors", "list", "--all")
    assert everything.code == 0, everything.stderr
    assert "pypi:airbyte-source-faker==7.2.1" in everything.stdout
    assert "docker:airbyte/destination-snowflake:TAG" in everything.stdout
    assert " sample-data " in everything.stdout  # built-ins still listed
    found = ferry_cli("connectors", "list", "--all", "--search", "stripe")
    assert "pypi:airbyte-source-stripe==" in found.stdout
    assert "faker" not in found.stdout


def test_the_known_connectors_registry_is_well_formed() -> None:
    from ferry.engine.known_connectors import known

    entries = known()
    assert 30 <= len(entries) <= 60
    assert len({(c.kind, c.name) for c in entries}) == len(entries)
    for entry in entries:
        assert entry.package or entry.image, entry
        assert not entry.package or entry.package == f"airbyte-{entry.kind}-{entry.name}"
        assert (entry.documentation_url or "").startswith("https://docs.airbyte.com/integrations/")
