"""A third-party source with a secret field (`api_key`), installed the way users install plug-ins.

It logs its key on purpose, as careless connectors do, so tests can check that the key never reaches
a response, a log or the database in clear text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ferry.cdk import ReadContext, Source, Stream, StreamItem
from ferry.cdk.spec import MASK
from ferry.errors import ConfigError
from ferry.protocol import ConnectorSpecification

SPEC = {
    "type": "object",
    "required": ["api_key"],
    "additionalProperties": False,
    "properties": {
        "api_key": {"type": "string", "airbyte_secret": True, "minLength": 1},
        "rows": {"type": "integer", "minimum": 0, "default": 3},
        "options": {
            "type": "object",
            "properties": {"token": {"type": "string", "airbyte_secret": True}, "region": {"type": "string"}},
        },
    },
}
DIST_INFO = "ferry_control_test_plugin-1.0.dist-info"


class Items(Stream):
    name = "items"
    primary_key = [["id"]]

    def __init__(self, rows: int, key: str) -> None:
        self.rows, self.key = rows, key

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {"id": {"type": "integer"}, "label": {"type": "string"}}}

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        ctx.logger.warning("connecting with api key %s", self.key)
        for i in range(1, self.rows + 1):
            yield {"id": i, "label": f"item {i}"}


class Notes(Stream):
    """No primary key and only a suggested cursor: the user must choose both."""

    name = "notes"
    cursor_field = ["seq"]

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {"seq": {"type": "integer"}, "text": {"type": "string"}}}

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        yield {"seq": 1, "text": "first"}


class SecretSource(Source):
    """A plug-in source whose config holds secrets, for tests."""

    name = "test-secret"

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(connection_specification=SPEC)

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        if config["api_key"] == MASK:
            raise ConfigError("the source got the mask instead of its api key")
        return [Items(int(config.get("rows", 3)), str(config["api_key"])), Notes()]


def install(site: Path) -> None:
    """Installs `test-secret` for every process that has `site` on its path (package metadata only)."""
    info = site / DIST_INFO
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ferry-control-test-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[ferry.sources]\ntest-secret = {__name__}:SecretSource\n")
