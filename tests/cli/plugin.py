"""A third-party source as a user would install it (found through the `ferry.sources` entry point).

Its one stream suggests a cursor but lets the user choose another, and declares no primary key, which
the built-in sources never do: the tests use it for the cursor and key errors, and for a plug-in sync.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ferry.cdk import Checkpoint, ReadContext, Source, Stream, StreamItem
from ferry.protocol import ConnectorSpecification

SPEC = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "rows": {"type": "integer", "minimum": 0, "default": 3},
        "broken": {"type": "boolean", "default": False, "description": "Fail with a bug (not a FerryError)."},
    },
}
DIST_INFO = "ferry_cli_test_plugin-1.0.dist-info"


class Orders(Stream):
    name = "orders"
    cursor_field = ["updated_at"]  # a suggestion: source_defined_cursor stays False

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def json_schema(self) -> dict[str, Any]:
        properties = {
            "id": {"type": "integer"},
            "note": {"type": "string"},
            "updated_at": {"type": "integer"},
        }
        return {"type": "object", "properties": properties}

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        after = int((ctx.state or {}).get("updated_at", 0))
        for i in range(after + 1, self.rows + 1):
            yield {"id": i, "note": f"order {i}", "updated_at": i}
        yield Checkpoint({"updated_at": max(after, self.rows)})


class OrdersSource(Source):
    """A plug-in source with one stream, for tests."""

    name = "test-orders"

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(connection_specification=SPEC, supports_incremental=True)

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        if config.get("broken"):
            raise RuntimeError("the plug-in has a bug")
        return [Orders(int(config.get("rows", 3)))]


def install(site: Path) -> None:
    """Installs `test-orders` for every process that has `site` on its path (package metadata only)."""
    info = site / DIST_INFO
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ferry-cli-test-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[ferry.sources]\ntest-orders = {__name__}:OrdersSource\n")
