"""Pipelines as files: the YAML shape of DESIGN.md, validated, with ${ENV} interpolation.

```yaml
source: {type: sample-data, config: {count: 1000}}
destination: {type: duckdb, config: {path: ./warehouse.duckdb}}
streams:
  - name: purchases
    sync_mode: incremental
    destination_sync_mode: append_dedup
    cursor_field: [updated_at]
    primary_key: [[id]]
prefix: shop_                      # optional: tables are named shop_purchases, ...
namespace_definition: source       # or destination, or custom_format with namespace_format
```
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ferry.engine.catalog import StreamSelection
from ferry.engine.mapping import NamespaceDefinition, StreamMapping
from ferry.errors import ConfigError
from ferry.protocol import DestinationSyncMode, SyncMode

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectorRef(_Strict):
    type: str = Field(min_length=1)
    name: str | None = None  # used by `ferry apply`; a sync ignores it
    config: dict[str, Any] = Field(default_factory=dict)


class StreamConfig(_Strict):
    name: str
    namespace: str | None = None
    sync_mode: SyncMode | None = None
    destination_sync_mode: DestinationSyncMode | None = None
    cursor_field: list[str] | None = None
    primary_key: list[list[str]] | None = None

    @field_validator("cursor_field", mode="before")
    @classmethod
    def _cursor(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("primary_key", mode="before")
    @classmethod
    def _key(cls, value: Any) -> Any:
        # "id" -> [["id"]]; ["a", "b"] -> [["a"], ["b"]] (a composite key of top-level fields).
        if isinstance(value, str):
            return [[value]]
        if isinstance(value, list):
            return [[v] if isinstance(v, str) else v for v in value]
        return value

    def selection(self) -> StreamSelection:
        return StreamSelection(
            self.name,
            self.namespace,
            self.sync_mode,
            self.destination_sync_mode,
            self.cursor_field,
            self.primary_key,
        )


class Pipeline(_Strict):
    source: ConnectorRef
    destination: ConnectorRef
    streams: list[StreamConfig] | None = None
    # Where streams land in the destination (Airbyte's connection settings); the default keeps the
    # source's namespaces and names.
    namespace_definition: NamespaceDefinition = NamespaceDefinition.source
    namespace_format: str | None = Field(default=None, max_length=256)
    prefix: str = Field(default="", max_length=256)
    # Keys for `ferry apply` / `ferry export`; `ferry sync` runs the pipeline once and ignores them.
    name: str | None = None
    workspace: str | None = None
    schedule: Any = None

    @model_validator(mode="after")
    def _format_given(self) -> Pipeline:
        if self.namespace_definition is NamespaceDefinition.custom_format and not self.namespace_format:
            raise ValueError("namespace_definition custom_format needs a namespace_format")
        return self

    def selections(self) -> list[StreamSelection] | None:
        return None if self.streams is None else [s.selection() for s in self.streams]

    def mapping(self) -> StreamMapping:
        return StreamMapping(self.namespace_definition, self.namespace_format, self.prefix)


def interpolate(value: Any, where: str = "") -> Any:
    """Replace ${VAR} and ${VAR:-default} in every string; a variable that is not set is an error.

    `${SOURCE_NAMESPACE}` in `namespace_format` is the format's own placeholder, filled per stream at
    sync time, and stays as it is.
    """
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if where == "namespace_format" and name == "SOURCE_NAMESPACE":
                return match.group(0)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            raise ConfigError(
                f"environment variable {name} is not set (used at {where or 'the pipeline'})",
                hint=f"Export {name}, or write ${{{name}:-default}} in the pipeline file.",
                field=where,
            )

        return _ENV.sub(sub, value)
    if isinstance(value, dict):
        return {k: interpolate(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _describe(error: ValidationError, path: Path) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    kind = first["type"]
    if kind == "missing":
        return f"{path}: missing required key '{where}'"
    if kind == "extra_forbidden":
        return f"{path}: unknown key '{where}'"
    return f"{path}: '{where}' is invalid: {first['msg']}"


def load_pipeline(path: str | os.PathLike[str]) -> Pipeline:
    file = Path(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"pipeline file not found: {file}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: a pipeline file must be a mapping with 'source' and 'destination'")
    try:
        return Pipeline.model_validate(interpolate(raw))
    except ValidationError as exc:
        raise ConfigError(
            _describe(exc, file),
            hint="A pipeline has source.type/config, destination.type/config and optional streams[].",
        ) from None


def state_path_for(pipeline_file: str | os.PathLike[str]) -> Path:
    """The local state store beside the pipeline file: .ferry/<name>.state.json."""
    file = Path(pipeline_file)
    return file.parent / ".ferry" / f"{file.stem}.state.json"
