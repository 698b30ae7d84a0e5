"""A source that only replays pre-generated RECORD lines from a file, as fast as it can (stdlib only).

    python replay_source.py spec | check --config C | discover --config C | read --config C --catalog K

Config: {"path": "records.jsonl", "catalog": "catalog.json"}: the lines to replay, and the discovered
catalog (an Airbyte CATALOG payload) of their stream. One STATE ends the read, with the record count.
"""

from __future__ import annotations

import json
import shutil
import sys

SPEC = {
    "connectionSpecification": {
        "type": "object",
        "required": ["path", "catalog"],
        "properties": {"path": {"type": "string"}, "catalog": {"type": "string"}},
    }
}


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
        with open(config["path"], "rb") as records:
            shutil.copyfileobj(records, out, 1 << 20)
        with open(config["path"], "rb") as records:
            count = sum(1 for _ in records)
        with open(config["catalog"]) as handle:
            stream = json.load(handle)["streams"][0]["name"]
        state = {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"done": True}},
        }
        state["sourceStats"] = {"recordCount": float(count)}
        out.write(json.dumps({"type": "STATE", "state": state}).encode() + b"\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
