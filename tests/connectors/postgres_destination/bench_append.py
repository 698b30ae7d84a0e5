"""Benchmark (not a test): N rows x 12 mixed columns written by the Postgres destination in append mode.

Run on purpose: `python -m tests.connectors.postgres_destination.bench_append [ROWS] [BATCH_ROWS]`.
Prints rows/s and the process's peak RSS. Writes into a fresh database on the test server and drops it.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tests.dbs import pg_database, pg_settings

from ferry.cdk.batching import RecordBatch
from ferry.cdk.schema import JSON_METADATA
from ferry.connectors.destinations.postgres.writer import PostgresWriter
from ferry.protocol import ConfiguredCatalog, ConfiguredStream, DestinationSyncMode, Stream, SyncMode
from ferry.protocol.builders import stream_state_message

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "account_id": {"type": "integer"},
        "amount": {"type": "number"},
        "name": {"type": "string"},
        "code": {"type": "string"},
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
        "day": {"type": "string", "format": "date"},
        "attrs": {"type": "object"},
        "ref": {"type": "string"},
        "score": {"type": "number"},
        "big": {"type": "integer"},
    },
}


def batches(total: int, size: int, per_state: int) -> Iterator[Any]:
    rng = np.random.default_rng(7)
    stream = ConfiguredStream(
        Stream("bench", SCHEMA, [SyncMode.full_refresh]), SyncMode.full_refresh, DestinationSyncMode.append
    )
    fields = [
        pa.field(n, pa.string(), metadata=JSON_METADATA) if n == "attrs" else None
        for n in SCHEMA["properties"]
    ]
    since_state = 0
    for start in range(0, total, size):
        n = min(size, total - start)
        ids = np.arange(start, start + n, dtype=np.int64)
        id_text = pc.cast(pa.array(ids), pa.string())
        arrays = [
            pa.array(ids),
            pa.array(rng.integers(0, 1_000_000, n)),
            pa.array(np.round(rng.random(n) * 10_000, 2)),
            pc.binary_join_element_wise("customer ", id_text, ""),
            pa.array(np.where(ids % 3 == 0, "ACTIVE", "PENDING")),
            pa.array(rng.random(n) > 0.5),
            pa.array(1_600_000_000_000_000 + ids * 1_000_003, pa.timestamp("us", tz="UTC")),
            pa.array((18_000 + ids % 3_000).astype(np.int32), pa.date32()),
            pc.binary_join_element_wise('{"k": ', id_text, ', "tags": ["a", "b"]}', ""),
            pc.binary_join_element_wise("ref-", id_text, "-x", ""),
            pa.array(rng.random(n)),
            pa.array(rng.integers(-(10**15), 10**15, n)),
        ]
        schema = pa.schema(
            [
                f or pa.field(name, a.type)
                for f, name, a in zip(fields, SCHEMA["properties"], arrays, strict=True)
            ]
        )
        yield RecordBatch(stream.descriptor, pa.record_batch(arrays, schema=schema), 1_700_000_000_000)
        since_state += n
        if since_state >= per_state:
            yield stream_state_message(stream.descriptor, {"at": start + n})
            since_state = 0
    yield stream_state_message(stream.descriptor, {"at": total})


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a local process (the server backend that ran the COPYs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    stream = ConfiguredStream(
        Stream("bench", SCHEMA, [SyncMode.full_refresh]), SyncMode.full_refresh, DestinationSyncMode.append
    )
    with pg_database() as database:
        s = pg_settings(database)
        config = {
            "host": s["host"],
            "port": s["port"],
            "database": database,
            "username": s["user"],
            "password": s["password"],
        }
        writer = PostgresWriter(config, ConfiguredCatalog([stream]))
        writer.open()
        backend = writer.con.info.backend_pid
        server_before, client_before = _cpu_seconds(backend), time.process_time()
        started = time.perf_counter()
        committed = 0
        try:
            for item in batches(total, size, 200_000):
                if isinstance(item, RecordBatch):
                    writer.write(item)
                else:
                    committed += sum(writer.commit().values())
            committed += sum(writer.commit().values())
            seconds = time.perf_counter() - started
            server = _cpu_seconds(backend) - server_before
        finally:
            writer.close()
        client = time.process_time() - client_before
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"rows {total:,} x 12 columns, batches of {size:,}: {seconds:.2f} s, {total / seconds:,.0f} rows/s, "
        f"committed {committed:,}, peak RSS {peak_mb:.0f} MB; CPU: Ferry {client:.1f} s, "
        f"server backend {server:.1f} s (load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
