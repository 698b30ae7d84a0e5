"""A small program speaking the Airbyte protocol, as a third-party connector would: a source and a destination
whose faults are chosen in their config. Standard library only, so it runs with any Python.

    python fake_connector.py source spec|check|discover|read ...
    python fake_connector.py destination spec|check|write ...

Source config: streams (names), records (per stream), per_state (records per checkpoint), and the
faults: stray_lines, crash_after (records, then a traceback and exit 3), exit_code (after all
records), error_trace (a config_error TRACE, then exit 1), hang_after (records, then sleep, with a
child process), control (keys sent in a CONTROL message), states_without_stats, no_final_state,
bad_values (every other updated_at is not a date), pid_file (where it writes its process id).
Destination config: path (a JSON-lines file it commits to at every state; the catalog it got goes to
PATH.catalog.json and the stream statuses to PATH.statuses), ack_limit (states it acknowledges, then
silence), reverse_acks (echo the states in reverse order at the end), drop_ids, exit_code.
The source writes the config, catalog and state it got to `echo_config_to` when set.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "updated_at": {"type": "string", "format": "date-time"},
        "name": {"type": ["null", "string"]},
        "tags": {"type": ["null", "object"]},
    },
}
SOURCE_SPEC = {
    "connectionSpecification": {
        "type": "object",
        "properties": {
            "streams": {"type": "array", "items": {"type": "string"}},
            "records": {"type": "integer", "minimum": 0},
            "per_state": {"type": "integer", "minimum": 1},
            "api_token": {"type": "string", "airbyte_secret": True},
        },
        "additionalProperties": True,
    }
}
DESTINATION_SPEC = {
    "connectionSpecification": {
        "type": "object",
        "required": ["path"],
        "properties": {"path": {"type": "string"}},
        "additionalProperties": True,
    },
    "supported_destination_sync_modes": ["append", "overwrite", "append_dedup"],
}


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def load(path: str | None) -> Any:
    if not path:
        return None
    with open(path) as handle:
        return json.load(handle)


def state_message(stream: str, position: int, count: int, stats: bool) -> dict[str, Any]:
    state: dict[str, Any] = {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"position": position}},
    }
    if stats:
        state["sourceStats"] = {"recordCount": float(count)}
    return {"type": "STATE", "state": state}


def record(stream: str, i: int) -> dict[str, Any]:
    data = {"id": i, "updated_at": f"2024-01-01T00:00:{i % 60:02d}Z", "name": f"n{i}", "tags": {"i": i}}
    return {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1_700_000_000_000}}


def read(config: dict[str, Any], catalog: dict[str, Any], state: Any) -> int:
    if config.get("pid_file"):
        with open(config["pid_file"], "w") as handle:
            handle.write(str(os.getpid()))
    if config.get("echo_config_to"):
        with open(config["echo_config_to"], "w") as handle:
            json.dump({"config": config, "catalog": catalog, "state": state}, handle)
    positions = {
        s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"]["position"] for s in state or []
    }
    total = config.get("records", 10)
    per_state = config.get("per_state", 5)
    emitted = 0
    if config.get("stray_lines"):
        print("starting up (a plain line, not JSON)")
        print('{"type": "DEBUG", "message": "not an Airbyte message"}')
        print("[1, 2, 3]")
    if config.get("control"):
        emit({"type": "CONTROL", "control": {"type": "CONNECTOR_CONFIG", "emitted_at": time.time() * 1000,
              "connectorConfig": {"config": {**config, **config["control"]}}}})  # fmt: skip
    for configured in catalog["streams"]:
        stream = configured["stream"]["name"]
        since = 0
        for i in range(positions.get(stream, 0) + 1, total + 1):
            message = record(stream, i)
            if config.get("bad_values") and i % 2 == 0:
                message["record"]["data"]["updated_at"] = "not a date"
            emit(message)
            emitted += 1
            since += 1
            if config.get("stray_lines") and i % 3 == 0:
                print(f"progress: {i} records")
            if emitted == config.get("crash_after"):
                sys.stderr.write(
                    "Traceback (most recent call last):\nRuntimeError: connection reset by peer\n"
                )
                sys.stderr.flush()
                os._exit(3)
            if emitted == config.get("hang_after"):
                subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
                time.sleep(600)
            if i % per_state == 0:
                emit(state_message(stream, i, since, not config.get("states_without_stats")))
                since = 0
        if not config.get("no_final_state"):
            emit(state_message(stream, total, since, not config.get("states_without_stats")))
    if config.get("error_trace"):
        emit({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": time.time() * 1000,
              "error": {"message": "the API token expired", "failure_type": "config_error"}}})  # fmt: skip
        return 1
    return int(config.get("exit_code", 0))


def write(config: dict[str, Any], catalog: dict[str, Any]) -> int:
    with open(config["path"] + ".catalog.json", "w") as handle:
        json.dump(catalog, handle)
    statuses = open(config["path"] + ".statuses", "a")  # noqa: SIM115 - closed at the end
    acked = 0
    held: list[dict[str, Any]] = []
    pending: list[str] = []
    counts: dict[str, int] = {}
    with open(config["path"], "a") as out:
        for line in sys.stdin:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("type") == "RECORD":
                pending.append(json.dumps(message["record"]))
                stream = message["record"]["stream"]
                counts[stream] = counts.get(stream, 0) + 1
            elif message.get("type") == "TRACE":
                status = message["trace"]["stream_status"]
                statuses.write(f"{status['stream_descriptor']['name']} {status['status']}\n")
            elif message.get("type") == "STATE":
                out.write("".join(p + "\n" for p in pending))
                out.flush()
                os.fsync(out.fileno())
                pending.clear()
                state = message["state"]
                stream = state["stream"]["stream_descriptor"]["name"]
                state["destinationStats"] = {"recordCount": float(counts.pop(stream, 0))}
                if config.get("drop_ids"):
                    state.pop("id", None)
                if config.get("reverse_acks"):
                    held.append(state)
                elif "ack_limit" not in config or acked < config["ack_limit"]:
                    emit({"type": "STATE", "state": state})
                    acked += 1
        out.write("".join(p + "\n" for p in pending))
    for state in reversed(held):
        emit({"type": "STATE", "state": state})
    statuses.close()
    return int(config.get("exit_code", 0))


def main() -> int:
    role, command = sys.argv[1], sys.argv[2]
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    parser.add_argument("--catalog")
    parser.add_argument("--state")
    args = parser.parse_args(sys.argv[3:])
    if command == "spec":
        emit({"type": "SPEC", "spec": SOURCE_SPEC if role == "source" else DESTINATION_SPEC})
        return 0
    config = load(args.config)
    if command == "check":
        emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}})
        return 0
    if command == "discover":
        streams = [
            {"name": name, "json_schema": SCHEMA, "supported_sync_modes": ["full_refresh", "incremental"],
             "source_defined_cursor": True, "default_cursor_field": ["updated_at"],
             "source_defined_primary_key": [["id"]], "is_resumable": True}
            for name in config.get("streams", ["items"])
        ]  # fmt: skip
        emit({"type": "CATALOG", "catalog": {"streams": streams}})
        return 0
    if command == "read":
        return read(config, load(args.catalog), load(args.state))
    return write(config, load(args.catalog))


if __name__ == "__main__":
    sys.exit(main())
