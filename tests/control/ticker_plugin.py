"""`test-ticker`: a slow, incremental test source whose failures are chosen in its config.

Stream `ticks` yields rows {id, run} for ids after the saved state, one every `delay` seconds (in
the first `slow_runs` reads), with a checkpoint every `per_state` rows. `run` numbers the reads
(kept in `runs_file`), so a test can tell which attempt wrote a row. With `fail` set to transient or
config, the first `fail_runs` reads raise that error after `fail_after` rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ferry.cdk import Checkpoint, ReadContext, Source, Stream, StreamItem
from ferry.errors import ConfigError, TransientError
from ferry.protocol import ConnectorSpecification

SPEC = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "rows": {"type": "integer", "minimum": 0, "default": 20},
        "per_state": {"type": "integer", "minimum": 1, "default": 1},
        "delay": {"type": "number", "minimum": 0, "default": 0},
        "slow_runs": {"type": "integer", "minimum": 0, "default": 1000},
        "fail": {"type": "string", "enum": ["none", "transient", "config"], "default": "none"},
        "fail_runs": {"type": "integer", "minimum": 0, "default": 1},
        "fail_after": {"type": "integer", "minimum": 0, "default": 2},
        "runs_file": {"type": "string"},
    },
}
DIST_INFO = "ferry_control_ticker_plugin-1.0.dist-info"


class Ticks(Stream):
    name = "ticks"
    primary_key = [["id"]]
    cursor_field = ["id"]
    source_defined_cursor = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {"id": {"type": "integer"}, "run": {"type": "integer"}}}

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        c = self.config
        run = _next_run(c.get("runs_file"))
        start = int((ctx.state or {}).get("id", 0))
        ctx.logger.info("ticker run %s starts after id %s", run, start)
        rows, per_state = int(c.get("rows", 20)), int(c.get("per_state", 1))
        delay = float(c.get("delay", 0)) if run < int(c.get("slow_runs", 1000)) else 0.0
        for i in range(start + 1, rows + 1):
            time.sleep(delay)
            yield {"id": i, "run": run}
            if i % per_state == 0:
                yield Checkpoint({"id": i})
            if run < int(c.get("fail_runs", 1)) and i - start == int(c.get("fail_after", 2)):
                _fail(str(c.get("fail", "none")))
        yield Checkpoint({"id": rows})


def _fail(kind: str) -> None:
    if kind == "transient":
        raise TransientError("the ticker's server is busy", hint="It is expected to recover.")
    if kind == "config":
        raise ConfigError("the ticker's token is wrong", hint="Fix `token`.", field="token")


def _next_run(path: str | None) -> int:
    if not path:
        return 0
    file = Path(path)
    run = int(file.read_text()) if file.exists() else 0
    file.write_text(str(run + 1))
    return run


class TickerSource(Source):
    """A slow incremental source for executor tests."""

    name = "test-ticker"

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(connection_specification=SPEC, supports_incremental=True)

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return [Ticks(config)]


def install(site: Path) -> None:
    """Installs `test-ticker` for every process that has `site` on its path (package metadata only)."""
    info = site / DIST_INFO
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ferry-control-ticker-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[ferry.sources]\ntest-ticker = {__name__}:TickerSource\n")
