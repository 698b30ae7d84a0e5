"""Fixtures for the control plane: a store on SQLite and on Postgres, and real `ferry serve` processes.

Postgres is the local server (127.0.0.1:5432, user postgres); each test run gets its own database,
dropped at the end. Without a reachable server the Postgres cases are skipped, except under CI=true,
where they fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from ferry.control.app import open_control
from ferry.control.services.context import Control
from ferry.control.settings import Settings

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN_ID, ADMIN_SECRET = "test-admin", "test-admin-secret-0123456789"
BACKENDS = ["sqlite", "postgres"]


def _postgres_or_skip() -> None:
    import psycopg

    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Postgres at 127.0.0.1:5432 is needed under CI: {exc}")
        pytest.skip(f"no Postgres at 127.0.0.1:5432: {exc}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this test run (per xdist worker)."""
    import psycopg

    _postgres_or_skip()
    name = f"ferry_control_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(backend: str, request: pytest.FixtureRequest, home: Path) -> str:
    if backend == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{home / 'ferry.db'}"


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    home = tmp_path / "home"
    return Settings(home=home, database_url=database_url(request.param, request, home))


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Control]:
    control = open_control(settings)
    yield control
    if control.executor is not None:
        control.executor.close()
    control.store.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A running `ferry serve` on 127.0.0.1, with its data directory and captured output."""

    url: str
    home: Path
    output: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def public(self) -> str:
        return f"{self.url}/api/public/v1"

    def token(self, client_id: str = ADMIN_ID, secret: str = ADMIN_SECRET) -> str:
        if client_id not in self._tokens:
            done = httpx.post(
                f"{self.public}/applications/token", data={"client_id": client_id, "client_secret": secret}
            )
            done.raise_for_status()
            self._tokens[client_id] = done.json()["access_token"]
        return self._tokens[client_id]

    def client(self, client_id: str = ADMIN_ID, secret: str = ADMIN_SECRET) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(client_id, secret)}"}
        return httpx.Client(base_url=self.public, headers=headers, timeout=30)

    def log_text(self) -> str:
        return self.output.read_text(errors="replace")


def start_server(home: Path, extra_env: dict[str, str], repo_root: Path) -> Server:
    from tests.control import plugin

    site = home.parent / "site"
    plugin.install(site)
    port = free_port()
    output = home.parent / f"server-{port}.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FERRY_")},
        "FERRY_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(site), str(repo_root), os.environ.get("PYTHONPATH")) if p
        ),
        **extra_env,
    }
    command = [sys.executable, "-c", "from ferry.cli.main import main; main()", "serve", "--port", str(port)]
    with output.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", home, output, process, env)
    _wait_healthy(server)
    return server


def _wait_healthy(server: Server, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"ferry serve exited with {server.process.returncode}:\n{server.log_text()}")
        try:
            if httpx.get(f"{server.public}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.process.kill()
    raise RuntimeError(f"ferry serve did not become healthy:\n{server.log_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, repo_root: Path
) -> Iterator[Server]:
    """One server per store backend for the whole run; tests make their own workspaces in it."""
    home = tmp_path_factory.mktemp(f"server-{request.param}") / "home"
    env = {"FERRY_ADMIN_CLIENT_ID": ADMIN_ID, "FERRY_ADMIN_CLIENT_SECRET": ADMIN_SECRET}
    if request.param == "postgres":
        env["FERRY_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    running = start_server(home, env, repo_root)
    yield running
    stop_server(running)


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def wait_job(client: httpx.Client, job_id: int, seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job: dict[str, Any] = ok(client.get(f"/jobs/{job_id}"))
        if job["status"] not in ("pending", "running", "incomplete") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


@dataclass
class Setup:
    """A workspace with a sample-data source and a DuckDB destination, made through the API."""

    workspace_id: str
    source_id: str
    destination_id: str
    warehouse: Path


def make_setup(client: httpx.Client, tmp: Path, count: int = 25) -> Setup:
    workspace = ok(client.post("/workspaces", json={"name": f"ws-{uuid.uuid4().hex[:6]}"}))["workspaceId"]
    source = ok(
        client.post(
            "/sources",
            json={
                "name": "sample",
                "workspaceId": workspace,
                "configuration": {"sourceType": "sample-data", "count": count},
            },
        )
    )
    warehouse = tmp / f"{uuid.uuid4().hex[:8]}.duckdb"
    destination = ok(
        client.post(
            "/destinations",
            json={
                "name": "lake",
                "workspaceId": workspace,
                "configuration": {"destinationType": "duckdb", "path": str(warehouse)},
            },
        )
    )
    return Setup(workspace, source["sourceId"], destination["destinationId"], warehouse)
