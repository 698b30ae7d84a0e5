"""Managed installs of PyPI connectors: one virtualenv per package and version under Ferry's data directory.

Layout: `$FERRY_HOME/connectors/<package>/<version>/` (FERRY_HOME defaults to ~/.ferry) is a virtualenv
holding the connector, with `ferry-install.json` naming its console script. An install is built in a
temporary directory beside it and renamed into place only when complete, under an exclusive file lock
per package, so two syncs that need the same new connector at once install it once and never see half
of it. The venv is run as `<venv>/bin/python <venv>/bin/<script>`: the interpreter finds its venv from
its own path, so the rename does not break it (the scripts' #! lines would still name the temp path).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ferry.errors import ConfigError, TransientError

Progress = Callable[[str], None]
MANIFEST = "ferry-install.json"
SPEC_FILE = "ferry-spec.json"
PYTHON_ENV = "FERRY_CONNECTOR_PYTHON"
# pip's lines worth passing on as progress; the rest ("Requirement already satisfied", bars) is noise.
_PIP_STEPS = ("Collecting ", "Installing collected packages", "Successfully installed", "ERROR")
_PACKAGE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")


def ferry_home() -> Path:
    """Ferry's data directory: $FERRY_HOME, or ~/.ferry."""
    return Path(os.environ.get("FERRY_HOME") or Path.home() / ".ferry").expanduser()


def connectors_dir() -> Path:
    return ferry_home() / "connectors"


def canonical(package: str) -> str:
    """The PEP 503 form of a package name (Airbyte_Source.Faker -> airbyte-source-faker)."""
    if not _PACKAGE.match(package):
        raise ConfigError(
            f"'{package}' is not a valid PyPI package name", hint="For example: airbyte-source-faker."
        )
    return re.sub(r"[-_.]+", "-", package).lower()


def check_version(version: str) -> str:
    if not _VERSION.match(version):
        raise ConfigError(f"'{version}' is not a valid package version", hint="For example: 7.2.1.")
    return version


@dataclass(frozen=True, slots=True)
class Install:
    """One installed connector: its virtualenv and the console script that runs it."""

    package: str
    version: str
    path: Path
    script: str
    installed_at: float

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def command(self) -> tuple[str, ...]:
        return (str(self.python), str(self.path / "bin" / self.script))

    def cached_spec(self) -> dict[str, Any] | None:
        """The connector's SPEC payload, saved the first time it was asked for (it never changes)."""
        try:
            value = json.loads((self.path / SPEC_FILE).read_text())
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def save_spec(self, spec: dict[str, Any]) -> None:
        _write_json_atomically(self.path / SPEC_FILE, spec)


def _write_json_atomically(path: Path, value: Any) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(value, indent=1))
    os.replace(tmp, path)


def _read_install(path: Path) -> Install | None:
    try:
        raw = json.loads((path / MANIFEST).read_text())
        return Install(raw["package"], raw["version"], path, raw["script"], float(raw["installed_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def installed(package: str | None = None) -> list[Install]:
    """Completed installs, of one package or of all, oldest first."""
    root = connectors_dir()
    folders = [root / canonical(package)] if package else sorted(p for p in root.glob("*") if p.is_dir())
    found = []
    for folder in folders:
        for child in sorted(folder.glob("*")) if folder.is_dir() else []:
            if not child.name.startswith(".") and (install := _read_install(child)) is not None:
                found.append(install)
    return sorted(found, key=lambda i: i.installed_at)


def find(package: str, version: str | None = None) -> Install | None:
    """The install of `package` at `version`, or its newest install when no version is given."""
    if version is not None:
        return _read_install(connectors_dir() / canonical(package) / check_version(version))
    existing = installed(package)
    return existing[-1] if existing else None


@contextlib.contextmanager
def _locked(package: str, progress: Progress) -> Iterator[None]:
    locks = connectors_dir() / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{package}.lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"waiting for another Ferry process that is installing {package}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_installed(package: str, version: str | None = None, progress: Progress | None = None) -> Install:
    """The install of `package` (at `version`, or the newest present), installing it first if needed."""
    report = progress or (lambda _line: None)
    name = canonical(package)
    if version is not None:
        check_version(version)
    done = find(name, version)
    if done is not None:
        return done
    with _locked(name, report):
        done = find(name, version)  # another process may have finished it while this one waited
        if done is not None:
            report(f"{name} {done.version} was installed by another Ferry process")
            return done
        return _install(name, version, report)


def _install(package: str, version: str | None, progress: Progress) -> Install:
    folder = connectors_dir() / package
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(".tmp-*"):  # from an install that crashed; we hold the lock
        shutil.rmtree(leftover, ignore_errors=True)
    tmp = folder / f".tmp-{uuid.uuid4().hex}"
    requirement = f"{package}=={version}" if version else package
    try:
        progress(f"creating a virtualenv for {requirement}")
        pip = _pip(tmp)
        venv = [_python(), "-m", "venv", *(["--without-pip"] if pip[0] == sys.executable else []), str(tmp)]
        _run(venv, progress, "create a virtualenv", requirement)
        progress(f"installing {requirement} from PyPI")
        # --no-compile: bytecode is written on first import, for the modules the connector uses only.
        options = ["install", "--no-input", "--disable-pip-version-check", "--no-compile"]
        _run([*pip, *options, requirement], progress, "install", requirement)
        found_version, script = _inspect(tmp, package)
        final = folder / found_version
        present = _read_install(final)
        if present is not None:  # an unpinned install that resolved to a version already present
            shutil.rmtree(tmp, ignore_errors=True)
            return present
        manifest = {
            "package": package,
            "version": found_version,
            "script": script,
            "installed_at": time.time(),
        }
        _write_json_atomically(tmp / MANIFEST, manifest)
        shutil.rmtree(final, ignore_errors=True)  # a folder without a manifest is an unfinished install
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress(f"installed {package} {found_version} in {final}")
    install = _read_install(final)
    assert install is not None
    return install


def _python() -> str:
    return os.environ.get(PYTHON_ENV) or sys.executable


def _pip(venv: Path) -> list[str]:
    """Ferry's own pip working on the new venv (`--python`, pip >= 22.3): seconds faster than giving
    every venv its own copy of pip. Without a usable pip here, the venv gets its own."""
    if importlib.util.find_spec("pip") is not None:
        version = importlib.metadata.version("pip")
        if tuple(int(p) for p in re.findall(r"\d+", version)[:2]) >= (22, 3):
            return [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    return [str(venv / "bin" / "python"), "-m", "pip"]


def _run(argv: list[str], progress: Progress, what: str, requirement: str) -> None:
    """Run an install step, passing its output on as progress; a failure names the step and its last lines."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    tail: list[str] = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True) as proc:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                text = line.rstrip()
                if text and not text.startswith("WARNING: Location "):  # pip's noise about missing mirrors
                    tail = [*tail[-9:], text]
                    if text.startswith(_PIP_STEPS):
                        progress(text)
        except BaseException:
            proc.kill()
            raise
        code = proc.wait()
    if code == 0:
        return
    last = " | ".join(tail[-3:]) or "no output"
    if any("No matching distribution" in t or "Could not find a version" in t for t in tail):
        raise ConfigError(
            f"cannot {what} {requirement}: PyPI has no such package or version ({last})",
            hint="Check the name and version (e.g. pypi:airbyte-source-faker==7.2.1); "
            "`ferry connectors list --all` shows known ones.",
        )
    raise TransientError(
        f"cannot {what} {requirement}: pip exited with code {code} ({last})",
        hint="Check the network and try again.",
    )


_INSPECT = """
import json, sys, importlib.metadata as md
dist = md.distribution(sys.argv[1])
scripts = sorted(e.name for e in dist.entry_points if e.group == "console_scripts")
print(json.dumps({"version": dist.version, "scripts": scripts}))
"""


def _inspect(venv: Path, package: str) -> tuple[str, str]:
    """The installed version, and the console script that is the connector's entrypoint."""
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", _INSPECT, package],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise ConfigError(f"{package} was installed but cannot be inspected: {done.stderr.strip()[-300:]}")
    info = json.loads(done.stdout.strip().splitlines()[-1])
    return str(info["version"]), _entrypoint(package, list(info["scripts"]))


def _entrypoint(package: str, scripts: list[str]) -> str:
    expected = package.removeprefix("airbyte-")  # airbyte-source-faker installs `source-faker`
    if expected in scripts:
        return expected
    if len(scripts) == 1:
        return scripts[0]
    if not scripts:
        raise ConfigError(
            f"{package} installs no command, so it is not a connector",
            hint="Airbyte connectors on PyPI are named airbyte-source-NAME or airbyte-destination-NAME.",
        )
    raise ConfigError(
        f"{package} installs several commands ({', '.join(scripts)}); Ferry cannot tell which one to run"
    )


def remove(package: str, version: str | None = None) -> list[Install]:
    """Delete the install of `package` at `version` (every version when None); returns what was removed."""
    name = canonical(package)
    removed = []
    with _locked(name, lambda _line: None):
        for install in installed(name):
            if version is None or install.version == version:
                trash = install.path.with_name(f".tmp-{uuid.uuid4().hex}")
                os.rename(install.path, trash)  # gone at once for readers; deleted below
                shutil.rmtree(trash, ignore_errors=True)
                removed.append(install)
    return removed
