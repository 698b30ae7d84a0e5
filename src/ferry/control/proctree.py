"""Stopping a worker with everything it started, read from /proc (Linux).

A worker runs in its own process group, but the connectors it launches each get a process group of
their own (so that the engine can stop one connector with its helpers). Killing the worker's group
alone would leave them running, orphaned. So the whole tree is collected first, while the parent
links still exist, and every process group in it is signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable
from pathlib import Path

_PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of a process, or None when it is gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2])


def descendants(root: int) -> list[int]:
    """Every live process below `root`, children first."""
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] != "Z":
                children.setdefault(stat[1], []).append(int(entry.name))
    found: list[int] = []
    frontier = [root]
    while frontier:
        below = children.get(frontier.pop(), [])
        found.extend(below)
        frontier.extend(below)
    return found


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def tree(root: int) -> list[int]:
    """`root` and its live descendants."""
    return [root, *descendants(root)] if alive(root) else descendants(root)


def groups_of(pids: Iterable[int]) -> set[int]:
    out = set()
    for pid in pids:
        stat = _stat(pid)
        if stat is not None:
            out.add(stat[2])
    return out


def _signal(pids: Iterable[int], groups: Iterable[int], sig: signal.Signals) -> None:
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def terminate_tree(
    root: int,
    grace: float,
    *,
    reap: Callable[[], object] | None = None,
    first: signal.Signals = signal.SIGTERM,
) -> list[int]:
    """SIGTERM `root`'s whole tree (every process group in it), SIGKILL what is left after `grace`
    seconds; returns the pids that were signalled. `reap` is called while waiting, for a parent that
    must collect its child (Popen.poll) so that it does not linger as a zombie."""
    pids = tree(root)
    groups = groups_of(pids) - {os.getpgrp()}
    _signal(pids, groups, first)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if reap is not None:
            reap()
        if not any(alive(pid) for pid in pids):
            break
        time.sleep(0.05)
    # Processes started during the grace period hang below the ones still alive.
    late = [p for pid in pids if alive(pid) for p in descendants(pid)]
    everything = [*pids, *late]
    _signal(everything, (groups_of(everything) | groups) - {os.getpgrp()}, signal.SIGKILL)
    if reap is not None:
        reap()
    return everything
