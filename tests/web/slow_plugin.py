"""`test-web-slow`: a plug-in source that logs a line per row and takes its time, so a job is seen running.

Installed like any third-party connector (package metadata on the server's path).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ferry.cdk import ReadContext, Source, Stream, StreamItem
from ferry.protocol import ConnectorSpecification

SPEC = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "rows": {"type": "integer", "minimum": 0, "default": 10},
        "delay": {"type": "number", "minimum": 0, "default": 0.5},
    },
}
DIST_INFO = "ferry_web_slow_plugin-1.0.dist-info"


class Beats(Stream):
    name = "beats"
    primary_key = [["n"]]

    def __init__(self, rows: int, delay: float) -> None:
        self.rows, self.delay = rows, delay

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {"n": {"type": "integer"}}}

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        for n in range(1, self.rows + 1):
            ctx.logger.info("beat %s of %s", n, self.rows)
            time.sleep(self.delay)
            yield {"n": n}


class SlowSource(Source):
    """A source that takes `rows * delay` seconds and says so in its log."""

    name = "test-web-slow"

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(connection_specification=SPEC)

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return [Beats(int(config.get("rows", 10)), float(config.get("delay", 0.5)))]


def install(site: Path) -> None:
    """Installs `test-web-slow` for every process that has `site` on its path."""
    info = site / DIST_INFO
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ferry-web-slow-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[ferry.sources]\ntest-web-slow = {__name__}:SlowSource\n")
