"""The scheduler loop: creates due jobs, fails attempts whose process died, and hands jobs to the executor.

Every pass (each `tick_seconds`) it
1. creates the jobs of connections whose schedule is due (once per due time, even with several
   servers running: see services/due.py) and submits them;
2. fails running attempts whose heartbeat is older than `dead_after_seconds` (their worker, machine
   or server died; this also covers jobs left running by a server that died and restarted);
3. submits jobs waiting for a retry whose back-off has passed, and pending jobs that no executor
   took within `pending_grace_seconds` (queued on a server that died, or created elsewhere).

Several servers may run this loop on the same store: every step is idempotent, and an attempt
starts only once per job (services/attempts.py), whichever executor got the job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ferry.control.execution import ExecutionSettings
from ferry.control.executor import Executor
from ferry.control.services import recovery
from ferry.control.services.context import Control
from ferry.control.services.due import create_due_jobs
from ferry.control.store.types import utc_now

log = logging.getLogger("ferry.control.scheduler")


@dataclass(slots=True)
class Pass:
    """What one pass did (for logs, tests and the benchmark)."""

    created: list[int] = field(default_factory=list)
    abandoned: list[int] = field(default_factory=list)
    submitted: list[int] = field(default_factory=list)


class Scheduler:
    """Runs `tick()` every `settings.tick_seconds` in a background thread between `start()` and `stop()`."""

    def __init__(
        self,
        ctx: Control,
        executor: Executor,
        settings: ExecutionSettings | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.ctx = ctx
        self.executor = executor
        self.settings = settings or ExecutionSettings.from_env()
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, now: datetime | None = None) -> Pass:
        """One pass; `now` defaults to the clock."""
        moment = now or self.clock()
        done = Pass()
        done.created = create_due_jobs(self.ctx, moment, on_created=lambda job_id: self._submit(job_id, done))
        self._supervise(moment, done)
        return done

    def _supervise(self, now: datetime, done: Pass) -> None:
        settings, policy = self.settings, self.settings.retry
        silent_since = now - timedelta(seconds=settings.dead_after_seconds)
        orphaned_before = now - timedelta(seconds=settings.pending_grace_seconds)
        for job in recovery.active_jobs(self.ctx):
            if job.running_attempt is not None:
                if job.heartbeat_at is None or job.heartbeat_at < silent_since:
                    silence = settings.dead_after_seconds
                    reason = f"the attempt sent no heartbeat for {silence:g} s: its worker is taken for dead"
                    status = recovery.abandon(
                        self.ctx, job.running_attempt, reason, policy, silent_since=silent_since
                    )
                    if status is not None:
                        log.warning("job %s: %s; the job is now %s", job.job_id, reason, status)
                        done.abandoned.append(job.job_id)
            elif recovery.retry_due(job, policy, now) or (
                job.status == "pending" and job.created_at < orphaned_before
            ):
                self._submit(job.job_id, done)

    def _submit(self, job_id: int, done: Pass) -> None:
        try:
            self.executor.submit(job_id)
            done.submitted.append(job_id)
        except Exception:
            log.exception("job %s could not be handed to the executor", job_id)

    # -- the loop --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="ferry-scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                # A store that is briefly unreachable must not end scheduling for good.
                log.exception("a scheduler pass failed; the next one retries")
            self._stop.wait(self.settings.tick_seconds)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
