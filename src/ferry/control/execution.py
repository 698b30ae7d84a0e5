"""How jobs are run on this machine: worker slots, retries, heartbeats, and the scheduler's pace.

Read from the environment, so that `ferry serve` and every worker process it starts (or a remote
worker started by hand) agree:

| variable                    | default   | meaning                                                    |
|-----------------------------|-----------|------------------------------------------------------------|
| FERRY_WORKER_SLOTS          | CPUs (≥2) | attempts this server runs at once                          |
| FERRY_MAX_ATTEMPTS          | 3         | attempts per job, the first included                       |
| FERRY_RETRY_BACKOFF         | 1,5,25    | seconds to wait after the 1st, 2nd, ... failed attempt     |
| FERRY_ATTEMPT_HEARTBEAT     | 5         | seconds between an attempt's heartbeats                    |
| FERRY_ATTEMPT_DEAD_AFTER    | 60        | an attempt silent this long is taken for dead              |
| FERRY_SCHEDULER_TICK        | 1         | seconds between scheduler passes                           |
| FERRY_PENDING_GRACE         | 10        | a pending job no executor started after this is picked up  |
| FERRY_KILL_GRACE            | 5         | seconds between SIGTERM and SIGKILL when stopping a worker |
| FERRY_COMMIT_ROWS           | engine's  | rows between destination commits (0: at every checkpoint)  |
| FERRY_COMMIT_SECONDS        | engine's  | most seconds between destination commits                   |
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ferry.control.services.retries import RetryPolicy
from ferry.errors import ConfigError


def _default_slots() -> int:
    return max(2, os.cpu_count() or 2)


@dataclass(frozen=True, slots=True)
class ExecutionSettings:
    slots: int = field(default_factory=_default_slots)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    heartbeat_seconds: float = 5.0
    dead_after_seconds: float = 60.0
    tick_seconds: float = 1.0
    pending_grace_seconds: float = 10.0
    kill_grace_seconds: float = 5.0
    commit_rows: int | None = None
    commit_seconds: float | None = None

    def sync_options(self) -> dict[str, float]:
        """The engine's commit cadence where it is set here (else the engine's defaults hold)."""
        options: dict[str, float] = {}
        if self.commit_rows is not None:
            options["commit_rows"] = self.commit_rows
        if self.commit_seconds is not None:
            options["commit_seconds"] = self.commit_seconds
        return options

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ExecutionSettings:
        env = os.environ if environ is None else environ
        default = cls()
        heartbeat = _number(env, "FERRY_ATTEMPT_HEARTBEAT", default.heartbeat_seconds)
        dead_after = _number(env, "FERRY_ATTEMPT_DEAD_AFTER", default.dead_after_seconds)
        if dead_after <= heartbeat:
            raise ConfigError(
                f"FERRY_ATTEMPT_DEAD_AFTER ({dead_after:g}) must be longer than "
                f"FERRY_ATTEMPT_HEARTBEAT ({heartbeat:g})",
                hint="Allow several missed heartbeats, e.g. heartbeat 5 and dead-after 60.",
            )
        return cls(
            slots=int(_number(env, "FERRY_WORKER_SLOTS", default.slots, minimum=1)),
            retry=RetryPolicy(
                max_attempts=int(_number(env, "FERRY_MAX_ATTEMPTS", default.retry.max_attempts, minimum=1)),
                backoff=_numbers(env, "FERRY_RETRY_BACKOFF", default.retry.backoff),
            ),
            heartbeat_seconds=heartbeat,
            dead_after_seconds=dead_after,
            tick_seconds=_number(env, "FERRY_SCHEDULER_TICK", default.tick_seconds),
            pending_grace_seconds=_number(env, "FERRY_PENDING_GRACE", default.pending_grace_seconds),
            kill_grace_seconds=_number(env, "FERRY_KILL_GRACE", default.kill_grace_seconds),
            commit_rows=_optional_int(env, "FERRY_COMMIT_ROWS"),
            commit_seconds=_optional(env, "FERRY_COMMIT_SECONDS"),
        )

    def to_env(self) -> dict[str, str]:
        """The variables that give a worker process these settings."""
        return {
            "FERRY_WORKER_SLOTS": str(self.slots),
            "FERRY_MAX_ATTEMPTS": str(self.retry.max_attempts),
            "FERRY_RETRY_BACKOFF": ",".join(f"{v:g}" for v in self.retry.backoff),
            "FERRY_ATTEMPT_HEARTBEAT": f"{self.heartbeat_seconds:g}",
            "FERRY_ATTEMPT_DEAD_AFTER": f"{self.dead_after_seconds:g}",
            "FERRY_SCHEDULER_TICK": f"{self.tick_seconds:g}",
            "FERRY_PENDING_GRACE": f"{self.pending_grace_seconds:g}",
            "FERRY_KILL_GRACE": f"{self.kill_grace_seconds:g}",
            **{f"FERRY_{k.upper()}": f"{v:g}" for k, v in self.sync_options().items()},
        }


def _number(env: Mapping[str, str], name: str, default: float, minimum: float = 0.01) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= minimum:  # also refuses NaN
        raise ConfigError(
            f"environment variable {name} must be a number ≥ {minimum:g}, not {text!r}",
            hint=f"Set {name}={default:g}, or unset it for the default.",
        )
    return value


def _optional(env: Mapping[str, str], name: str) -> float | None:
    return _number(env, name, 0, minimum=0) if env.get(name, "").strip() else None


def _optional_int(env: Mapping[str, str], name: str) -> int | None:
    value = _optional(env, name)
    return None if value is None else int(value)


def _numbers(env: Mapping[str, str], name: str, default: Sequence[float]) -> tuple[float, ...]:
    text = env.get(name, "").strip()
    if not text:
        return tuple(default)
    values = []
    for part in text.split(","):
        try:
            values.append(float(part))
        except ValueError:
            values.append(-1.0)
    if any(not v >= 0 for v in values):
        raise ConfigError(
            f"environment variable {name} must be comma-separated seconds, not {text!r}",
            hint=f"For example {name}=1,5,25.",
        )
    return tuple(values)
