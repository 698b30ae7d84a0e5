"""The server's figures: API p95 latency under a steady load, and the scheduler's start lag. Not a test.

1. API latency: a store with N connections (default 1,000), a real `ferry serve` on 127.0.0.1, and an
   open-loop load generator (asyncio + httpx) sending `rate` requests a second (default 50) for
   `seconds`, half `GET /connections/{id}` (a random connection) and half `GET /connections` (a page
   of 20 at a random offset). Each request leaves on its own schedule, whether or not the ones before
   have answered, so a slow server cannot slow the load down and hide its latency. Goal: p95 < 50 ms.
2. Scheduler start lag: N connections on an hourly schedule, all due at the same instant, and the
   scheduler loop (as `ferry serve` runs it, pass every second) with an executor that only takes the
   job ids (every slot free: the figure is the scheduler's). Lag = when the job was handed to the
   executor minus its due time. Goal: p95 < 10 s. With --schedulers 2, two schedulers (two servers)
   share the store; the run also checks that no due time got two jobs.

    python benchmarks/server.py [--connections 1000] [--rate 50] [--seconds 20] [--database-url URL]

SQLite in a temporary FERRY_HOME by default; --database-url postgresql+psycopg://... for Postgres
(an empty database: the benchmark fills it). `--quick` runs tiny sizes to check the script works.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

CLIENT_ID, CLIENT_SECRET = "bench-admin", "bench-admin-secret-0123456789"
API_GOAL_MS = 50.0
LAG_GOAL_S = 10.0


@dataclass
class Samples:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def line(self, label: str) -> str:
        if not self.latencies_ms:
            return f"{label:<28} no answers ({self.errors} errors)"
        ordered = sorted(self.latencies_ms)
        p = lambda q: ordered[min(int(q * len(ordered)), len(ordered) - 1)]  # noqa: E731
        return (
            f"{label:<28} n={len(ordered):>5}  p50 {p(0.50):7.1f} ms  p95 {p(0.95):7.1f} ms  "
            f"p99 {p(0.99):7.1f} ms  max {ordered[-1]:7.1f} ms  errors {self.errors}"
        )

    def p95(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(int(0.95 * len(ordered)), len(ordered) - 1)] if ordered else float("inf")


# -- the store ---------------------------------------------------------------------------------


def open_store(home: Path, database_url: str | None) -> Any:
    from ferry.control.app import open_control
    from ferry.control.settings import Settings

    url = database_url or f"sqlite:///{home / 'ferry.db'}"
    return open_control(Settings(home=home, database_url=url, secret_key="benchmark-key"))


def fill(ctx: Any, count: int, warehouse: Path, schedule: Any = None) -> tuple[str, list[str]]:
    """A workspace with `count` connections (one made by the service, the rest copied from it)."""
    from ferry.control.services import actors, connections, workspaces
    from ferry.control.services.connections import Settings
    from ferry.control.services.context import SYSTEM
    from ferry.control.store.models import Connection, ConnectionState

    workspace = workspaces.create(ctx, SYSTEM, f"bench-{uuid.uuid4().hex[:6]}")
    source = actors.create(
        ctx,
        SYSTEM,
        "source",
        workspace_id=workspace.id,
        name="s",
        configuration={"sourceType": "sample-data"},
    )
    destination = actors.create(
        ctx,
        SYSTEM,
        "destination",
        workspace_id=workspace.id,
        name="d",
        configuration={"destinationType": "duckdb", "path": str(warehouse)},
    )
    first = connections.create(
        ctx, SYSTEM, source.row.id, destination.row.id, Settings(name="c0", schedule=schedule)
    )
    ids = [first.id]
    columns = {c.key: getattr(first, c.key) for c in Connection.__table__.columns}
    with ctx.store.write() as session:
        for n in range(1, count):
            row = Connection(**{**columns, "id": str(uuid.uuid4()), "name": f"c{n}"})
            session.add(row)
            session.add(ConnectionState(connection_id=row.id))
            ids.append(row.id)
    return workspace.id, ids


# -- 1. API latency ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path, database_url: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FERRY_")}
    env.update(
        FERRY_HOME=str(home),
        FERRY_SECRET_KEY="benchmark-key",
        FERRY_ADMIN_CLIENT_ID=CLIENT_ID,
        FERRY_ADMIN_CLIENT_SECRET=CLIENT_SECRET,
    )
    if database_url:
        env["FERRY_DATABASE_URL"] = database_url
    log = (home / "server.log").open("wb")
    command = [sys.executable, "-c", "from ferry.cli.main import main; main()", "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/public/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"ferry serve exited: see {home / 'server.log'}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("ferry serve did not start within 60 s")


async def load(
    base: str, token: str, workspace: str, ids: list[str], *, rate: float, seconds: float
) -> dict[str, Samples]:
    samples = {"get": Samples(), "list": Samples()}
    total = int(rate * seconds)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    headers = {"Authorization": f"Bearer {token}"}
    pick = random.Random(7)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:

        async def one(kind: str, url: str, params: dict[str, Any]) -> None:
            began = time.perf_counter()
            try:
                response = await client.get(url, params=params)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                samples[kind].latencies_ms.append((time.perf_counter() - began) * 1000)
            else:
                samples[kind].errors += 1

        tasks = []
        start = time.perf_counter()
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if i % 2 == 0:
                tasks.append(asyncio.create_task(one("get", f"/connections/{pick.choice(ids)}", {})))
            else:
                offset = pick.randrange(0, max(len(ids) - 20, 1))
                params = {"workspaceIds": workspace, "limit": 20, "offset": offset}
                tasks.append(asyncio.create_task(one("list", "/connections", params)))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    return samples


def api_latency(home: Path, database_url: str | None, count: int, rate: float, seconds: float) -> bool:
    ctx = open_store(home, database_url)
    began = time.perf_counter()
    workspace, ids = fill(ctx, count, home / "w.duckdb")
    ctx.store.dispose()
    print(f"store: {count:,} connections made in {time.perf_counter() - began:.1f} s")
    server, base = start_server(home, database_url)
    try:
        token = httpx.post(
            f"{base}/applications/token", data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        ).json()["access_token"]
        # Warm up: first requests pay for imports and connection set-up, not for serving.
        for connection_id in ids[:20]:
            httpx.get(f"{base}/connections/{connection_id}", headers={"Authorization": f"Bearer {token}"})
        samples = asyncio.run(load(base, token, workspace, ids, rate=rate, seconds=seconds))
    finally:
        server.terminate()
        server.wait(30)
    print(
        f"API at {rate:g} requests/s for {seconds:g} s, {count:,} connections (goal: p95 < {API_GOAL_MS:g} ms)"
    )
    for kind, label in (("get", "GET /connections/{id}"), ("list", "GET /connections?limit=20")):
        print("  " + samples[kind].line(label))
    return all(s.p95() < API_GOAL_MS and s.errors == 0 for s in samples.values())


# -- 2. scheduler start lag ----------------------------------------------------------------------


class Taker:
    """An executor with every slot free: it takes the job id and notes when."""

    def __init__(self) -> None:
        self.taken: dict[int, float] = {}
        self.lock = threading.Lock()

    def submit(self, job_id: int) -> None:
        with self.lock:
            self.taken.setdefault(job_id, time.time())

    def cancel(self, job_id: int) -> None:
        pass

    def close(self) -> None:
        pass


def start_lag(home: Path, database_url: str | None, count: int, schedulers: int) -> bool:
    from sqlalchemy import select, update

    from ferry.control.execution import ExecutionSettings
    from ferry.control.scheduler import Scheduler
    from ferry.control.services.connections import Schedule
    from ferry.control.store.models import Connection, Job
    from ferry.control.store.types import utc_now

    ctx = open_store(home, database_url)
    _, ids = fill(ctx, count, home / "lag.duckdb", Schedule("basic", units=1, time_unit="hours"))
    due = (utc_now() + timedelta(seconds=3)).replace(microsecond=0)
    with ctx.store.write() as session:
        session.execute(update(Connection).where(Connection.id.in_(ids)).values(next_run_at=due))
    stores = [ctx, *(open_store(home, database_url) for _ in range(schedulers - 1))]
    taker = Taker()
    loops = [Scheduler(c, taker, ExecutionSettings()) for c in stores]
    for loop in loops:
        loop.start()
    deadline = time.monotonic() + 120
    while len(taker.taken) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    for loop in loops:
        loop.stop()
    with ctx.store.read() as session:
        jobs = list(
            session.execute(
                select(Job.id, Job.connection_id, Job.scheduled_for).where(Job.connection_id.in_(ids))
            )
        )
    for store in stores:
        store.store.dispose()
    lags = sorted(max(taken - due.timestamp(), 0.0) for taken in taker.taken.values())
    doubled = len(jobs) - len({(c, s) for _, c, s in jobs})
    print(
        f"scheduler: {count:,} connections due at the same instant, {schedulers} scheduler(s), "
        f"pass every {ExecutionSettings().tick_seconds:g} s (goal: p95 < {LAG_GOAL_S:g} s)"
    )
    if not lags:
        print("  no job was started")
        return False
    p95 = lags[min(int(0.95 * len(lags)), len(lags) - 1)]
    print(
        f"  start lag                    n={len(lags):>5}  p50 {statistics.median(lags):6.2f} s  "
        f"p95 {p95:6.2f} s  max {lags[-1]:6.2f} s  jobs {len(jobs):,}  twice for one due time: {doubled}"
    )
    return len(lags) == count and p95 < LAG_GOAL_S and doubled == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the load lasts")
    parser.add_argument("--schedulers", type=int, default=1, help="schedulers sharing the store")
    parser.add_argument("--database-url", help="an empty Postgres database (default: SQLite)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the script runs")
    args = parser.parse_args()
    if args.quick:
        args.connections, args.seconds = 50, 2.0
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, store: {'Postgres' if args.database_url else 'SQLite'}"
    )
    with tempfile.TemporaryDirectory(prefix="ferry-bench-server-") as tmp:
        api_ok = api_latency(Path(tmp) / "api", args.database_url, args.connections, args.rate, args.seconds)
        lag_ok = start_lag(Path(tmp) / "lag", args.database_url, args.connections, args.schedulers)
    print(f"goals met: API {'yes' if api_ok else 'NO'}, scheduler {'yes' if lag_ok else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
