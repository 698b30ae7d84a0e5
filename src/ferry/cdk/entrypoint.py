"""Turns any Ferry connector into a program with exactly Airbyte's CLI.

Sources: `spec`, `check --config`, `discover --config`, `read --config --catalog [--state]`.
Destinations: `spec`, `check --config`, `write --config --catalog` with messages on stdin.
Every output line is an Airbyte message on stdout; secrets are masked in logs and errors.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from ferry.cdk.batching import RecordBatch
from ferry.cdk.destination import Destination
from ferry.cdk.schema import CHANGES_COLUMN, is_json_field
from ferry.cdk.secrets import mask, register_secrets
from ferry.cdk.source import Source
from ferry.cdk.spec import secret_values, validate_config
from ferry.errors import ConfigError, FerryError
from ferry.protocol import (
    Catalog,
    ConfiguredCatalog,
    ConnectionStatus,
    ConnectionStatusValue,
    FailureType,
    Level,
    Message,
    ProtocolError,
    RecordMessage,
    RecordMeta,
    StateMessage,
    Type,
    decode,
    dumps,
    encode,
    error_trace,
    from_obj,
    loads,
    log_message,
    to_obj,
)

Connector = Source | Destination


def read_json_file(path: str, what: str) -> Any:
    hint = f"Check the path given to --{what}."
    try:
        return loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{what} file not found: {path}", hint=hint) from None
    except OSError as exc:  # a directory, no permission: still the user's input to fix, not a crash
        raise ConfigError(f"{what} file {path} cannot be read: {exc.strerror or exc}", hint=hint) from None
    except ValueError as exc:
        raise ConfigError(f"{what} file {path} is not valid JSON: {exc}") from None


def load_config(connector: Connector, path: str) -> dict[str, Any]:
    config = read_json_file(path, "config")
    if not isinstance(config, dict):
        raise ConfigError(f"config file {path} must hold a JSON object")
    schema = connector.spec().connection_specification
    register_secrets(secret_values(schema, config))
    validate_config(schema, config, connector.name)
    return config


def load_catalog(path: str) -> ConfiguredCatalog:
    try:
        return from_obj(ConfiguredCatalog, read_json_file(path, "catalog"), "catalog")
    except ProtocolError as exc:
        raise ConfigError(f"catalog file {path} is not a ConfiguredAirbyteCatalog: {exc}") from None


def load_state(path: str | None) -> list[StateMessage]:
    """A state file: a JSON array of state payloads (STREAM or GLOBAL), or a LEGACY blob."""
    if not path:
        return []
    raw = read_json_file(path, "state")
    if raw is None:
        return []
    if isinstance(raw, dict):
        return [StateMessage(data=raw)]
    try:
        return [from_obj(StateMessage, item, "state") for item in raw]
    except (ProtocolError, TypeError) as exc:
        raise ConfigError(f"state file {path} is not a list of state messages: {exc}") from None


def _parsed_json(value: Any) -> Any:
    """JSON columns travel as JSON text inside Ferry; on the wire they are JSON values again."""
    if value is None:
        return None
    try:
        return loads(value)
    except ValueError:
        return value  # text that is not JSON is kept as the string it was


def batch_to_records(batch: RecordBatch) -> Iterator[Message]:
    """Per-record messages for a batch (the JSON boundary: only used when leaving Ferry's process)."""
    data = batch.data
    changes = data.column(CHANGES_COLUMN).to_pylist() if CHANGES_COLUMN in data.schema.names else None
    if changes is not None:
        data = data.drop_columns([CHANGES_COLUMN])
    rows = pa.Table.from_batches([data]).to_pylist()
    json_text = [f.name for f in data.schema if is_json_field(f) and pa.types.is_string(f.type)]
    for i, row in enumerate(rows):
        for name in json_text:
            row[name] = _parsed_json(row[name])
        record = RecordMessage(batch.stream.name, row, batch.emitted_at, batch.stream.namespace)
        if changes is not None and changes[i]:
            record.meta = from_obj(RecordMeta, {"changes": changes[i]})
        yield Message(Type.RECORD, record=record)


def _parse_args(connector: Connector, argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=connector.name, description=f"Ferry connector {connector.name}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("spec", help="print the connector's spec")
    sub.add_parser("check", help="check the config").add_argument("--config", required=True)
    if isinstance(connector, Source):
        sub.add_parser("discover", help="print the catalog").add_argument("--config", required=True)
        read = sub.add_parser("read", help="read records")
        read.add_argument("--config", required=True)
        read.add_argument("--catalog", required=True)
        read.add_argument("--state")
    else:
        write = sub.add_parser("write", help="write records from stdin")
        write.add_argument("--config", required=True)
        write.add_argument("--catalog", required=True)
    for p in sub.choices.values():
        p.add_argument("--debug", action="store_true", help="accepted for Airbyte compatibility")
    return parser.parse_args(argv)


def _stdin_messages(stream: IO[bytes]) -> Iterator[Message]:
    for line in stream:
        if not line.strip():
            continue
        try:
            yield decode(line)
        except ProtocolError:
            continue  # a line that is not a protocol message is not ours to act on


def _commands(
    connector: Connector, args: argparse.Namespace, stdin: IO[bytes]
) -> Iterable[Message | RecordBatch]:
    if args.command == "spec":
        return [Message(Type.SPEC, spec=connector.spec())]
    if args.command == "check":
        return [_check(connector, args.config)]
    config = load_config(connector, args.config)
    if isinstance(connector, Source):
        if args.command == "discover":
            catalog: Catalog = connector.discover(config)
            return [Message(Type.CATALOG, catalog=catalog)]
        return connector.read(config, load_catalog(args.catalog), load_state(args.state))
    return connector.write(config, load_catalog(args.catalog), _stdin_messages(stdin))


def _check(connector: Connector, config_path: str) -> Message:
    try:
        connector.check(load_config(connector, config_path))
        status = ConnectionStatus(ConnectionStatusValue.SUCCEEDED)
    except ConfigError as exc:
        status = ConnectionStatus(ConnectionStatusValue.FAILED, mask(str(exc)))
    except FerryError as exc:
        if exc.failure_type is not FailureType.config_error:
            raise
        status = ConnectionStatus(ConnectionStatusValue.FAILED, mask(str(exc)))
    return Message(Type.CONNECTION_STATUS, connection_status=status)


def _masked(message: Message) -> Message:
    """The message with secrets masked in the text a connector may have written from its config (logs,
    error traces, check results); records and states are data and pass untouched."""
    if message.log is not None:
        message.log.message = mask(message.log.message)
        message.log.stack_trace = message.log.stack_trace and mask(message.log.stack_trace)
    error = message.trace.error if message.trace is not None else None
    if error is not None:
        error.message = mask(error.message)
        error.internal_message = error.internal_message and mask(error.internal_message)
        error.stack_trace = error.stack_trace and mask(error.stack_trace)
    status = message.connection_status
    if status is not None and status.message:
        status.message = mask(status.message)
    return message


class _StdoutLogHandler(logging.Handler):
    def __init__(self, out: IO[bytes]) -> None:
        super().__init__()
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        level = {logging.ERROR: Level.ERROR, logging.WARNING: Level.WARN, logging.DEBUG: Level.DEBUG}.get(
            record.levelno, Level.INFO if record.levelno < logging.ERROR else Level.FATAL
        )
        self.out.write(encode(log_message(level, mask(record.getMessage()))))


def launch(
    connector: Connector,
    argv: Sequence[str] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
) -> int:
    """Run one CLI command; returns the exit code (0 success, 1 failure with an ERROR trace)."""
    out = stdout or sys.stdout.buffer
    args = _parse_args(connector, list(sys.argv[1:] if argv is None else argv))
    handler = _StdoutLogHandler(out)
    root = logging.getLogger()
    level = root.level  # put back afterwards: launch may run inside a larger process (tests, engine)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        for item in _commands(connector, args, stdin or sys.stdin.buffer):
            if isinstance(item, RecordBatch):
                out.write(b"".join(dumps(to_obj(m)) for m in batch_to_records(item)))
            else:
                out.write(encode(item if item.type is Type.RECORD else _masked(item)))
        out.flush()
        return 0
    except FerryError as exc:
        out.write(
            encode(error_trace(mask(str(exc)), exc.failure_type, stack_trace=mask(traceback.format_exc())))
        )
        return 1
    except Exception as exc:
        text = mask(f"{type(exc).__name__}: {exc}")
        out.write(
            encode(error_trace(text, FailureType.system_error, stack_trace=mask(traceback.format_exc())))
        )
        return 1
    finally:
        out.flush()
        root.removeHandler(handler)
        root.setLevel(level)
