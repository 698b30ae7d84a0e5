"""Fault injection for crash tests: `FERRY_FAULT=POINT:N` SIGKILLs this process at the N-th pass of POINT.

Points: `batch` (a batch handed to the destination, not committed), `commit` (the destination
committed a state, Ferry has not saved it), `state_written` (new state file written, not yet renamed
into place), `saved` (state saved). Unset in normal use; checking it costs one dict lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_spec = os.environ.get("FERRY_FAULT", "")
_target: tuple[str, int] | None = None
if _spec:
    _name, _, _n = _spec.partition(":")
    _target = (_name, int(_n or "1"))
_seen: Counter[str] = Counter()


def point(name: str) -> None:
    if _target is None or _target[0] != name:
        return
    _seen[name] += 1
    if _seen[name] == _target[1]:
        os.kill(os.getpid(), signal.SIGKILL)
