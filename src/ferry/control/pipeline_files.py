"""Pipeline files as a server reads and writes them: the engine's pipeline shape plus `name`,
`workspace`, `schedule` and an optional `name` on the source and the destination.

```yaml
name: orders                       # the connection's name (default: the file's name)
workspace: analytics               # created when missing (default: "default")
schedule: {cron: "0 0 * * * ?", time_zone: Europe/Paris}   # or {every: 6 hours}, or manual
source: {type: postgres, name: shop db, config: {password: ${PG_PASSWORD}}}
destination: {type: duckdb, config: {path: /data/warehouse.duckdb}}
streams: [{name: orders, sync_mode: incremental, destination_sync_mode: append_dedup}]
```

A file `ferry sync` runs is a valid server file, and the keys added here are all optional.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ferry.engine.pipeline import ConnectorRef, Pipeline, interpolate
from ferry.errors import ConfigError

DEFAULT_WORKSPACE = "default"
_EVERY = re.compile(r"^\s*(\d+)\s*(minute|hour|day|week|month)s?\s*$", re.IGNORECASE)


class NamedConnectorRef(ConnectorRef):
    name: str | None = Field(default=None, min_length=1, max_length=256)


class ScheduleSpec(BaseModel):
    """`cron` (Quartz, with `time_zone`) or `every` ("30 minutes", "6 hours", "1 day")."""

    model_config = ConfigDict(extra="forbid")

    cron: str | None = None
    time_zone: str | None = None
    every: str | None = None

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is not None and not _EVERY.match(value):
            raise ValueError("write a count and a unit, e.g. '30 minutes', '6 hours' or '1 day'")
        return value

    def interval(self) -> tuple[int, str] | None:
        """(units, minutes|hours|days|weeks|months) of an `every` schedule."""
        match = _EVERY.match(self.every or "")
        return (int(match.group(1)), match.group(2).lower() + "s") if match else None


class ServerPipeline(Pipeline):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    workspace: str | None = Field(default=None, min_length=1, max_length=256)
    schedule: Literal["manual"] | ScheduleSpec | None = None
    source: NamedConnectorRef
    destination: NamedConnectorRef

    @field_validator("schedule")
    @classmethod
    def _one_kind(
        cls, value: Literal["manual"] | ScheduleSpec | None
    ) -> Literal["manual"] | ScheduleSpec | None:
        if isinstance(value, ScheduleSpec) and (value.cron is None) == (value.every is None):
            raise ValueError("give either `cron` or `every`")
        return value


def pipeline_files(path: Path) -> list[Path]:
    """The .yaml / .yml files of a directory (sorted), or the file itself."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(f"{path} is neither a pipeline file nor a directory of them")
    found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not found:
        raise ConfigError(f"{path} holds no .yaml or .yml pipeline files")
    return found


def load(path: Path) -> ServerPipeline:
    """A pipeline file with ${ENV} interpolated; ConfigError names the file and the key at fault."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"pipeline file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a pipeline file must be a mapping with 'source' and 'destination'")
    try:
        return ServerPipeline.model_validate(interpolate(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(
            f"{path}: '{where}' is invalid: {first['msg']}",
            hint="Keys: name, workspace, schedule, source{type,name,config}, destination{...}, streams.",
            field=where,
        ) from None


def dump(document: dict[str, Any]) -> str:
    """YAML for a pipeline document, keys in the order given."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)


def slug(text: str) -> str:
    """A file-name-safe, lower-case form of a name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "pipeline"


def env_name(*parts: str) -> str:
    """An environment variable name from parts: ORDERS_SOURCE_API_KEY."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", "_".join(parts)).strip("_").upper()
    return name if name and not name[0].isdigit() else f"FERRY_{name}"
