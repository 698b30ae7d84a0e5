"""Managed installs: a connector package installed into its own virtualenv once, reused, safe when two
processes install it at the same moment, listed and removed by `ferry connectors`. The package is a
wheel built here and served to pip from a local folder (no network)."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ferry.engine import installs
from ferry.errors import ConfigError
from tests.cli.conftest import Ferry, summary
from tests.external.conftest import FAKE, write_pipeline

PACKAGE, VERSION = "ferry-test-source", "1.0.0"


def build_wheel(folder: Path, name: str = PACKAGE, version: str = VERSION) -> Path:
    """A minimal wheel whose console script `source-test` is the fake connector acting as a source."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    entry = "\n\ndef run() -> None:\n    sys.argv.insert(1, 'source')\n    sys.exit(main())\n"
    program = FAKE.read_text() + entry
    files = {
        f"{module}/__init__.py": "",
        f"{module}/main.py": program,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": f"[console_scripts]\nsource-test = {module}.main:run\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private FERRY_HOME, and pip pointed at a folder holding the test wheel only."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels)
    monkeypatch.setenv("FERRY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return wheels


def test_an_install_is_made_once_and_reused(local_index: Path) -> None:
    steps: list[str] = []
    first = installs.ensure_installed(PACKAGE, VERSION, steps.append)
    assert first.path == installs.connectors_dir() / PACKAGE / VERSION
    assert first.script == "source-test"
    assert any(s.startswith("Successfully installed") for s in steps)
    again: list[str] = []
    assert installs.ensure_installed(PACKAGE, VERSION, again.append) == first
    assert again == []  # nothing to do
    assert [i.version for i in installs.installed()] == [VERSION]
    assert not list((installs.connectors_dir() / PACKAGE).glob(".tmp-*"))


def test_two_processes_installing_at_once_make_one_install(local_index: Path) -> None:
    code = (
        "from ferry.engine.installs import ensure_installed\n"
        f"print(ensure_installed({PACKAGE!r}, {VERSION!r}, lambda line: print(line, flush=True)).path)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e for _, e in outputs]
    paths = {out.strip().splitlines()[-1] for out, _ in outputs}
    assert paths == {str(installs.connectors_dir() / PACKAGE / VERSION)}
    assert sum("Successfully installed" in out for out, _ in outputs) == 1
    assert sum("installed by another Ferry process" in out for out, _ in outputs) == 1
    assert [p.name for p in (installs.connectors_dir() / PACKAGE).iterdir()] == [VERSION]


def test_a_package_pip_cannot_find_is_a_config_error(local_index: Path) -> None:
    with pytest.raises(ConfigError, match="no such package or version"):
        installs.ensure_installed("airbyte-source-does-not-exist", "0.0.1")
    assert not list((installs.connectors_dir() / "airbyte-source-does-not-exist").glob("*"))


def test_install_list_sync_and_remove_from_the_command_line(
    local_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ferry = Ferry(tmp_path)
    installed = ferry("connectors", "install", f"pypi:{PACKAGE}=={VERSION}")
    assert installed.code == 0, installed.stderr
    assert f"type: pypi:{PACKAGE}=={VERSION}" in installed.stdout
    assert "Successfully installed" in installed.stderr  # progress

    listed = ferry("connectors", "list")
    assert f"pypi:{PACKAGE}=={VERSION}" in listed.stdout

    # Ferry's PYTHONPATH must not leak into the connector's own virtualenv.
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "nowhere"))
    database = tmp_path / "w.duckdb"
    pipeline = {
        "source": {"type": f"pypi:{PACKAGE}", "config": {"records": 6, "per_state": 3}},
        "destination": {"type": "duckdb", "config": {"path": str(database)}},
    }
    synced = ferry("sync", write_pipeline(tmp_path, pipeline))
    assert synced.code == 0, synced.stderr
    assert summary(synced.stdout)["items"] == (6, 6)
    spec = json.loads((installs.connectors_dir() / PACKAGE / VERSION / installs.SPEC_FILE).read_text())
    assert "connectionSpecification" in spec  # kept, so later syncs need not ask again

    removed = ferry("connectors", "remove", f"pypi:{PACKAGE}")
    assert removed.code == 0, removed.stderr
    assert f"removed {PACKAGE} {VERSION}" in removed.stdout
    assert installs.installed() == []
    again = ferry("connectors", "remove", f"pypi:{PACKAGE}")
    assert again.code == 2
    assert "is not installed" in again.stderr
