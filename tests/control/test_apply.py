"""`ferry apply` and `ferry export`: pipeline files into the store (idempotent, secrets from ${ENV}) and
back out (secrets as placeholders), through the `ferry` command on a real store.

The first apply runs the installed `ferry` program; the others run the same command in this process
(typer's runner), which spares the start-up of a new interpreter each time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from ferry.control.app import open_control
from ferry.control.services import actors, connections, pipelines
from ferry.control.services.context import SYSTEM, Control
from ferry.control.settings import Settings
from ferry.control.store.models import Connection, Source, Workspace
from tests.cli.conftest import Ferry, Run
from tests.control.jobs_helpers import plugin_site

SECRET = f"shop-{uuid.uuid4().hex}"


@pytest.fixture
def home(tmp_path: Path, repo_root: Path) -> Iterator[Path]:
    with plugin_site(tmp_path, repo_root):
        yield tmp_path / "home"


def _ferry(tmp_path: Path, home: Path, *args: str | Path, **env: str) -> Run:
    """`ferry ARGS` in this process, with FERRY_HOME and `env` set for the call."""
    from typer.testing import CliRunner

    from ferry.cli.main import app

    done = CliRunner().invoke(app, [str(a) for a in args], env={"FERRY_HOME": str(home), **env})
    return Run(done.exit_code, done.stdout, done.stderr)


def _ferry_program(tmp_path: Path, home: Path, *args: str | Path, **env: str) -> Run:
    """The installed `ferry` program in a subprocess."""
    return Ferry(tmp_path)(*args, env={"FERRY_HOME": str(home), **env})


def _pipelines(tmp_path: Path) -> Path:
    folder = tmp_path / "pipelines"
    folder.mkdir()
    orders = {
        "name": "orders",
        "workspace": "analytics",
        "schedule": {"every": "6 hours"},
        "source": {
            "type": "test-secret",
            "name": "shop",
            "config": {"api_key": "${SHOP_KEY}", "rows": "${ROWS}"},
        },
        "destination": {"type": "duckdb", "config": {"path": str(tmp_path / "orders.duckdb")}},
        "streams": [{"name": "items", "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}],
        "namespace_definition": "custom_format",
        "namespace_format": "raw_${SOURCE_NAMESPACE}",
        "prefix": "shop_",
    }
    # A file exactly as `ferry sync` reads it: no server keys at all.
    users = {
        "source": {"type": "sample-data", "config": {"count": 10}},
        "destination": {"type": "duckdb", "config": {"path": str(tmp_path / "users.duckdb")}},
        "streams": [{"name": "users", "sync_mode": "incremental", "destination_sync_mode": "append_dedup"}],
    }
    (folder / "orders.yaml").write_text(yaml.safe_dump(orders))
    (folder / "users.yml").write_text(yaml.safe_dump(users))
    return folder


def _store(home: Path) -> Control:
    return open_control(Settings(home=home, database_url=f"sqlite:///{home / 'ferry.db'}"))


def _snapshot(ctx: Control) -> dict[str, Any]:
    """Every object's id and last update, by kind and name."""
    with ctx.store.read() as session:
        return {
            f"{model.__tablename__}:{row.name}": (row.id, row.updated_at)
            for model in (Workspace, Source, Connection)
            for row in session.scalars(select(model))
        }


def test_apply_creates_the_objects_and_a_second_apply_changes_nothing(tmp_path: Path, home: Path) -> None:
    folder = _pipelines(tmp_path)
    first = _ferry_program(tmp_path, home, "apply", folder, SHOP_KEY=SECRET, ROWS="5")
    assert first.code == 0, first.stderr
    assert "orders.yaml: workspace 'analytics' created, source 'shop' created" in first.stdout
    assert "connection 'orders' created" in first.stdout
    assert "users.yml: workspace 'default' created" in first.stdout
    ctx = _store(home)
    try:
        before = _snapshot(ctx)
        with ctx.store.read() as session:
            orders = session.scalars(select(Connection).where(Connection.name == "orders")).one()
            users = session.scalars(select(Connection).where(Connection.name == "users")).one()
        assert (orders.schedule_type, orders.basic_units, orders.basic_time_unit) == ("basic", 6, "hours")
        assert orders.streams[0]["syncMode"] == "full_refresh_overwrite"
        assert (orders.namespace_definition, orders.namespace_format, orders.prefix) == (
            "custom_format",
            "raw_${SOURCE_NAMESPACE}",
            "shop_",
        )
        assert users.schedule_type == "manual"
        # A file without naming keys keeps the source's names, as `ferry sync` does with it.
        assert (users.namespace_definition, users.prefix) == ("source", "")
        assert users.streams[0]["syncMode"] == "incremental_deduped_history"
        assert users.streams[0]["primaryKey"] == [["id"]]
        shop = actors.get(ctx, SYSTEM, "source", orders.source_id)
        assert actors.plain_config(ctx, shop) == {"api_key": SECRET, "rows": 5}  # typed from the text "5"
        assert SECRET not in str(shop.row.configuration)  # sealed at rest

        again = _ferry(tmp_path, home, "apply", folder, SHOP_KEY=SECRET, ROWS="5")
        assert again.code == 0, again.stderr
        assert "created" not in again.stdout
        assert "updated" not in again.stdout
        assert again.stdout.count("unchanged") == 6
        assert _snapshot(ctx) == before

        changed = _ferry(tmp_path, home, "apply", folder / "orders.yaml", SHOP_KEY=SECRET, ROWS="7")
        assert changed.code == 0, changed.stderr
        assert "source 'shop' updated" in changed.stdout
        assert "destination 'orders' unchanged" in changed.stdout
        assert actors.plain_config(ctx, actors.get(ctx, SYSTEM, "source", orders.source_id))["rows"] == 7
        assert connections.get(ctx, SYSTEM, orders.id).next_run_at == orders.next_run_at
    finally:
        ctx.store.dispose()


def test_export_writes_placeholders_and_its_files_apply_back_unchanged(tmp_path: Path, home: Path) -> None:
    assert _ferry(tmp_path, home, "apply", _pipelines(tmp_path), SHOP_KEY=SECRET, ROWS="5").code == 0
    out = tmp_path / "exported"
    exported = _ferry(tmp_path, home, "export", out)
    assert exported.code == 0, exported.stderr
    assert "ORDERS_SOURCE_API_KEY" in exported.stdout
    files = {p.name: p.read_text() for p in out.iterdir()}
    assert set(files) == {"orders.yaml", "users.yaml"}
    assert all(SECRET not in text for text in files.values())
    orders = yaml.safe_load(files["orders.yaml"])
    assert orders["workspace"] == "analytics"
    assert orders["schedule"] == {"every": "6 hours"}
    assert orders["source"] == {
        "type": "test-secret",
        "name": "shop",
        "config": {"api_key": "${ORDERS_SOURCE_API_KEY}", "rows": 5},
    }
    assert (orders["namespace_definition"], orders["namespace_format"], orders["prefix"]) == (
        "custom_format",
        "raw_${SOURCE_NAMESPACE}",
        "shop_",
    )
    assert "prefix" not in yaml.safe_load(files["users.yaml"])
    # Explicit, with what the source defines (its primary key), so the file says all the server does.
    assert orders["streams"] == [
        {
            "name": "items",
            "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite",
            "primary_key": [["id"]],
        }
    ]

    # The exported files are the same pipelines: applying them (with the secret in the variable) changes nothing.
    back = _ferry(tmp_path, home, "apply", out, ORDERS_SOURCE_API_KEY=SECRET)
    assert back.code == 0, back.stderr
    assert "created" not in back.stdout
    assert "updated" not in back.stdout
    ctx = _store(home)
    try:
        pipelines.export(ctx, tmp_path / "again")  # the same files again: export is stable
    finally:
        ctx.store.dispose()
    assert {p.name: p.read_text() for p in (tmp_path / "again").iterdir()} == files


def test_apply_names_the_file_and_key_at_fault(tmp_path: Path, home: Path) -> None:
    folder = _pipelines(tmp_path)
    missing = _ferry(tmp_path, home, "apply", folder / "orders.yaml", ROWS="5")
    assert missing.code == 2
    assert "environment variable SHOP_KEY is not set" in missing.stderr
    (folder / "users.yml").write_text(
        yaml.safe_dump({"source": {"type": "sample-data"}, "destination": {"type": "duckdb"}, "shedule": "x"})
    )
    bad = _ferry(tmp_path, home, "apply", folder / "users.yml")
    assert bad.code == 2
    assert "users.yml" in bad.stderr
    assert "shedule" in bad.stderr
