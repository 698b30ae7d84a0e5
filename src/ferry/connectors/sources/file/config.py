"""The file source's config, validated and turned into one typed settings object per stream."""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ferry.cdk.spec import validate_config
from ferry.connectors.sources.file.spec import CONNECTION_SPECIFICATION, DEFAULT_HTTP_TIMEOUT
from ferry.errors import ConfigError

CONNECTOR = "file"


@dataclass(frozen=True, slots=True)
class CsvOptions:
    delimiter: str | None = None
    """None: ',' for csv, a tab for tsv."""
    quote_char: str = '"'
    header: bool = True
    encoding: str = "utf-8"


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """One configured stream: a path (file, glob or URL) and how to read the files it matches."""

    index: int
    name: str
    path: str
    format: str | None = None
    compression: str = "auto"
    csv: CsvOptions = CsvOptions()
    primary_key: tuple[str, ...] = ()
    http_timeout: float = DEFAULT_HTTP_TIMEOUT

    def field(self, name: str) -> str:
        """The config path of one of this stream's settings, as errors name it (`streams.0.path`)."""
        return f"streams.{self.index}.{name}"


def _csv_options(raw: Mapping[str, Any], field: str) -> CsvOptions:
    encoding = raw.get("encoding", "utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(
            f"config field '{field}.encoding' names an unknown encoding {encoding!r}",
            hint="Use a Python codec name such as utf-8, latin-1, cp1252 or utf-16.",
            field=f"{field}.encoding",
            connector=CONNECTOR,
        ) from None
    return CsvOptions(raw.get("delimiter"), raw.get("quote_char", '"'), raw.get("header", True), encoding)


def parse_config(config: Mapping[str, Any]) -> list[StreamConfig]:
    """Validate `config` against the spec and return its streams; errors name the offending field."""
    validate_config(CONNECTION_SPECIFICATION, config, CONNECTOR)
    timeout = float(config.get("http_timeout_seconds", DEFAULT_HTTP_TIMEOUT))
    streams: list[StreamConfig] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(config["streams"]):
        name = raw["name"]
        if name in seen:
            raise ConfigError(
                f"config field 'streams.{index}.name' repeats the stream name {name!r} "
                f"(streams.{seen[name]} has it too)",
                hint="Give every stream its own name.",
                field=f"streams.{index}.name",
                connector=CONNECTOR,
            )
        seen[name] = index
        streams.append(
            StreamConfig(
                index=index,
                name=name,
                path=raw["path"],
                format=raw.get("format"),
                compression=raw.get("compression", "auto"),
                csv=_csv_options(raw.get("csv_options") or {}, f"streams.{index}.csv_options"),
                primary_key=tuple(raw.get("primary_key") or ()),
                http_timeout=timeout,
            )
        )
    return streams
