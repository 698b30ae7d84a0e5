"""A source that only replays pre-generated RECORD lines from a file, as fast as it can (stdlib only).

    python replay_source.py spec | check --config C | discover --config C | read --config C --catalog K

Config: {"path": "records.jsonl", "catalog": "catalog.json", "records_per_state": 100000}: the lines
to replay, the discovered catalog (an Airbyte CATALOG payload) of their stream, and how many records
each STATE (with its sourceStats.recordCount) follows, as a real source checkpoints as it goes.
"""

from __future__ import annotations

import itertools
import json
import sys

SPEC = {
    "connectionSpecification": {
        "type": "object",
        "required": ["path", "catalog"],
        "properties": {
            "path": {"type": "string"},
            "catalog": {"type": "string"},
            "records_per_state": {"type": "integer", "minimum": 1},
        },
    }
}


def _state(stream: str, position: int, count: int) -> bytes:
    state = {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"position": position}},
    }
    state["sourceStats"] = {"recordCount": float(count)}
    return json.dumps({"type": "STATE", "state": state}).encode() + b"\n"


def main() -> int:
    command = sys.argv[1]
    args = dict(zip(sys.argv[2::2], sys.argv[3::2], strict=False))
    out = sys.stdout.buffer
    if command == "spec":
        out.write(json.dumps({"type": "SPEC", "spec": SPEC}).encode() + b"\n")
        return 0
    with open(args["--config"]) as handle:
        config = json.load(handle)
    if command == "check":
        out.write(b'{"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED"}}\n')
    elif command == "discover":
        with open(config["catalog"]) as handle:
            out.write(json.dumps({"type": "CATALOG", "catalog": json.load(handle)}).encode() + b"\n")
    else:
        with open(config["catalog"]) as handle:
            stream = json.load(handle)["streams"][0]["name"]
        per_state = int(config.get("records_per_state", 100_000))
        position = 0
        with open(config["path"], "rb") as records:
            while chunk := list(itertools.islice(records, per_state)):
                out.writelines(chunk)
                position += len(chunk)
                out.write(_state(stream, position, len(chunk)))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
