"""External connectors: Ferry against PyAirbyte, records/s and peak memory, printed (figures, not a test).

(a) airbyte-source-faker 7.2.1 `users` -> DuckDB through Ferry and through PyAirbyte, and the raw
    `source-faker read` to /dev/null (Ferry should be within 1.15x of the raw time);
(b) a source that only replays pre-generated RECORD lines (replay_source.py) -> DuckDB through Ferry
    and through PyAirbyte (Ferry should be at least 5x PyAirbyte's rate, with peak RSS < 400 MB).

    python benchmarks/external.py [--count N] [--quick] [--only ferry|pyairbyte|raw] [--part a|b]

Only the read is timed (for Ferry, the sync; for PyAirbyte, `read` into its cache); connector
installs, spec and discover are not. Every case runs in a process of its own; "peak RSS" is that
platform process's own peak (Ferry's, or PyAirbyte's), and "connector RSS" the largest of the
processes it started. PyAirbyte 0.71.3 runs in
its own virtualenv with AIRBYTE_OFFLINE_MODE=1 and an explicit pip_url. Everything it installs or
generates is kept under benchmarks/.data/external/, so later runs start at once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "external"
REPLAY = HERE / "replay_source.py"
FAKER_PACKAGE, FAKER_VERSION = "airbyte-source-faker", "7.2.1"
PYAIRBYTE = "airbyte==0.71.3"
MB = 1024 * 1024
FULL, QUICK = 1_000_000, 20_000


# -- the cases (each runs in a fresh process: `external.py --case NAME COUNT WORKDIR`) ---------------


def _finish(records: int, started: float) -> None:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    result = {
        "records": records,
        "seconds": time.monotonic() - started,
        "rss": own,
        "connector_rss": children,
    }
    print(json.dumps(result))


def _faker_config(count: int) -> dict[str, Any]:
    return {"count": count, "seed": 1}


def case_raw(count: int, workdir: Path) -> None:
    """`source-faker read` alone, stdout to /dev/null: the connector's own speed."""
    from ferry.engine.installs import ensure_installed

    install = ensure_installed(FAKER_PACKAGE, FAKER_VERSION)
    config, catalog = workdir / "config.json", workdir / "catalog.json"
    config.write_text(json.dumps(_faker_config(count)))
    catalog.write_text(json.dumps(_users_catalog(_faker_catalog(install, config))))
    started = time.monotonic()
    with open(os.devnull, "wb") as sink:
        subprocess.run(
            [*install.command(), "read", "--config", str(config), "--catalog", str(catalog)],
            stdout=sink,
            check=True,
        )
    _finish(count, started)


def case_ferry(source: str, count: int, workdir: Path) -> None:
    """Ferry's engine: the external source -> the built-in DuckDB destination, full refresh."""
    from ferry.engine import FileStateStore, Sync, configure_catalog
    from ferry.engine.catalog import StreamSelection
    from ferry.engine.connectors import resolve
    from ferry.protocol import DestinationSyncMode, SyncMode

    if source == "faker":
        runner = resolve(f"pypi:{FAKER_PACKAGE}=={FAKER_VERSION}", "source").source(_faker_config(count))
    else:
        runner = resolve(f"command:{sys.executable} {REPLAY}", "source").source(_replay_config(count))
    destination = resolve("duckdb", "destination").destination({"path": str(workdir / "ferry.duckdb")})
    users = StreamSelection(
        "users", sync_mode=SyncMode.full_refresh, destination_sync_mode=DestinationSyncMode.overwrite
    )
    catalog = configure_catalog(runner.discover(), [users], destination.supported_sync_modes)
    started = time.monotonic()  # the read, as for the other cases: spec and discover are not timed
    result = Sync(runner, destination, catalog, FileStateStore(workdir / "state.json")).run()
    if result.error is not None:
        raise SystemExit(f"ferry failed: {result.error}")
    _finish(result.records_committed, started)


def case_pyairbyte(source: str, count: int, workdir: Path) -> None:
    """PyAirbyte (runs in its own venv): the source -> its local DuckDB cache."""
    os.environ["AIRBYTE_OFFLINE_MODE"] = "1"  # no registry here: the connector comes from pip_url
    os.environ["AIRBYTE_NO_UV"] = "1"  # PyAirbyte installs with uv by default; this machine has pip
    import airbyte as ab

    if source == "faker":
        connector = ab.get_source(
            "source-faker",
            config=_faker_config(count),
            streams=["users"],
            pip_url=f"{FAKER_PACKAGE}=={FAKER_VERSION}",
            install_root=DATA / "pyairbyte-connectors",
        )
    else:
        wrapper = workdir / "source-replay"
        wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} {REPLAY} "$@"\n')
        wrapper.chmod(0o755)
        connector = ab.get_source(
            "source-replay", config=_replay_config(count), streams=["users"], local_executable=str(wrapper)
        )
    cache = ab.new_local_cache(cache_name="bench", cache_dir=str(workdir / "cache"))
    connector.select_streams(["users"])
    started = time.monotonic()
    read = connector.read(cache=cache)
    records = len(read["users"])
    _finish(records, started)


# -- data and installs -----------------------------------------------------------------------------


def _faker_catalog(install: Any, config: Path) -> dict[str, Any]:
    done = subprocess.run(
        [*install.command(), "discover", "--config", str(config)], capture_output=True, check=True
    )
    for line in done.stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "CATALOG":
            catalog: dict[str, Any] = message["catalog"]
            return catalog
    raise SystemExit("faker's discover printed no catalog")


def _users_catalog(catalog: dict[str, Any]) -> dict[str, Any]:
    users = next(s for s in catalog["streams"] if s["name"] == "users")
    return {"streams": [{"stream": users, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}


def _replay_config(count: int) -> dict[str, str]:
    return {
        "path": str(DATA / f"faker-users-{count}.jsonl"),
        "catalog": str(DATA / "faker-users.catalog.json"),
    }


def prepare_replay(count: int) -> None:
    """1,000,000 (or COUNT) RECORD lines of faker users, generated once by faker itself."""
    from ferry.engine.installs import ensure_installed

    target = Path(_replay_config(count)["path"])
    if target.exists():
        return
    print(f"generating {count:,} faker users for the replay source (once) ...", flush=True)
    install = ensure_installed(FAKER_PACKAGE, FAKER_VERSION, lambda line: print(f"  {line}", flush=True))
    with tempfile.TemporaryDirectory() as tmp:
        config, catalog = Path(tmp) / "config.json", Path(tmp) / "catalog.json"
        config.write_text(json.dumps(_faker_config(count)))
        discovered = _faker_catalog(install, config)
        users = _users_catalog(discovered)
        catalog.write_text(json.dumps(users))
        Path(_replay_config(count)["catalog"]).write_text(
            json.dumps({"streams": [users["streams"][0]["stream"]]})
        )
        partial = target.with_suffix(".partial")
        with open(partial, "wb") as out:
            proc = subprocess.Popen(
                [*install.command(), "read", "--config", str(config), "--catalog", str(catalog)],
                stdout=subprocess.PIPE,
            )
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith(b'{"type":"RECORD"'):
                    out.write(line)
            if proc.wait() != 0:
                raise SystemExit("faker failed while generating the replay data")
        partial.rename(target)


def pyairbyte_python() -> Path:
    """PyAirbyte's own virtualenv (created once)."""
    venv = DATA / "pyairbyte-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"installing {PYAIRBYTE} into {venv} (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PYAIRBYTE],
            check=True,
        )
    return python


# -- the driver ------------------------------------------------------------------------------------


def measure(python: Path | str, case: list[str], count: int, label: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ferry-bench-external-") as workdir:
        done = subprocess.run(
            [str(python), str(Path(__file__).resolve()), "--case", *case, str(count), workdir],
            capture_output=True,
            text=True,
            check=False,
            cwd=workdir,
        )
    if done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-5:]
        print(f"{label}: FAILED (exit {done.returncode}): {' | '.join(tail)}", flush=True)
        return {}
    figure: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figure["label"] = label
    rate = figure["records"] / figure["seconds"] if figure["seconds"] else 0
    print(
        f"{label:<34} {figure['records']:>10,} {figure['seconds']:>9.1f} {rate:>12,.0f} "
        f"{figure['rss'] / MB:>9.0f} {figure['connector_rss'] / MB:>9.0f}",
        flush=True,
    )
    return figure


def _rate(figure: dict[str, Any]) -> float:
    return figure["records"] / figure["seconds"] if figure.get("seconds") else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=None, help=f"records per case (default {FULL:,})")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK:,} records: only proves the script works"
    )
    parser.add_argument(
        "--only", choices=("ferry", "pyairbyte", "raw"), action="append", help="run only these"
    )
    parser.add_argument("--part", choices=("a", "b"), help="only (a) faker, or only (b) the replay source")
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        name, *rest = args.case
        count, workdir = int(rest[-2]), Path(rest[-1])
        {"raw": lambda: case_raw(count, workdir),
         "ferry": lambda: case_ferry(rest[0], count, workdir),
         "pyairbyte": lambda: case_pyairbyte(rest[0], count, workdir)}[name]()  # fmt: skip
        return 0
    count = args.count or (QUICK if args.quick else FULL)
    only = set(args.only or ("ferry", "pyairbyte", "raw"))
    DATA.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FERRY_HOME", str(DATA / "ferry-home"))
    prepare_replay(count)
    pyairbyte = pyairbyte_python() if "pyairbyte" in only else None
    print(f"\n{'case':<34} {'records':>10} {'seconds':>9} {'records/s':>12} {'peak MB':>9} {'conn. MB':>9}")
    figures: dict[str, dict[str, Any]] = {}
    plan = [
        ("raw", sys.executable, ["raw"], "(a) faker read > /dev/null"),
        ("ferry", sys.executable, ["ferry", "faker"], "(a) faker -> DuckDB, Ferry"),
        ("pyairbyte", pyairbyte, ["pyairbyte", "faker"], "(a) faker -> DuckDB, PyAirbyte"),
        ("ferry", sys.executable, ["ferry", "replay"], "(b) replay -> DuckDB, Ferry"),
        ("pyairbyte", pyairbyte, ["pyairbyte", "replay"], "(b) replay -> DuckDB, PyAirbyte"),
    ]
    for kind, python, case, label in plan:
        wanted = args.part is None or label.startswith(f"({args.part})")
        if kind in only and python is not None and wanted:
            figures[" ".join(case)] = measure(python, case, count, label)
    _goals(figures)
    return 0


def _goals(figures: dict[str, dict[str, Any]]) -> None:
    raw, ferry_a = figures.get("raw", {}), figures.get("ferry faker", {})
    ferry_b, pyab_b = figures.get("ferry replay", {}), figures.get("pyairbyte replay", {})
    print()
    if raw and ferry_a:
        ratio = ferry_a["seconds"] / raw["seconds"]
        print(f"(a) Ferry / raw faker time: {ratio:.2f}x (goal <= 1.15x): {_met(ratio <= 1.15)}")
    if ferry_b and pyab_b:
        speedup = _rate(ferry_b) / _rate(pyab_b)
        print(f"(b) Ferry / PyAirbyte replay rate: {speedup:.1f}x (goal >= 5x): {_met(speedup >= 5)}")
    if ferry_b:
        peak = ferry_b["rss"] / MB
        print(f"(b) Ferry peak RSS: {peak:.0f} MB (goal < 400 MB): {_met(peak < 400)}")


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
