"""The local executor: each attempt runs in its own worker process, at most `slots` at a time.

A worker is `python -m ferry.control.worker JOB_ID` with the store's URL in its environment: it
needs nothing else (a remote worker runs the same program). It starts in a process group of its own;
cancelling a job terminates the worker and every connector process below it. When a worker exits
without closing its attempt (it crashed or was killed), the attempt is failed at once and the job
retried by the retry policy; the scheduler's heartbeat check covers workers this server lost track
of (a restart). Back-off waits are the scheduler's job, not the executor's.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ferry.control import proctree
from ferry.control.execution import ExecutionSettings
from ferry.control.services import recovery
from ferry.control.services.context import Control

log = logging.getLogger("ferry.control.executor")
_POLL = 0.1


@dataclass(slots=True)
class _Worker:
    job_id: int
    process: subprocess.Popen[bytes]
    started: float

    @property
    def name(self) -> str:
        return worker_name(self.process.pid)


def worker_name(pid: int) -> str:
    """How a worker signs its attempts: host and process id."""
    return f"{socket.gethostname()}:{pid}"


class ProcessExecutor:
    """Queues submitted jobs and runs each in a worker process when a slot is free."""

    def __init__(
        self,
        ctx: Control,
        settings: ExecutionSettings | None = None,
        *,
        command: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = settings or ExecutionSettings.from_env()
        self.command = list(command or (sys.executable, "-m", "ferry.control.worker"))
        self.extra_env = dict(env or {})
        self._queue: dict[int, None] = {}  # an ordered set: submitting is repeated every pass
        self._running: dict[int, _Worker] = {}
        self._lock = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="ferry-executor", daemon=True)
        self._thread.start()

    # -- the Executor protocol -------------------------------------------------------------------

    def submit(self, job_id: int) -> None:
        """Queues the job unless it is queued or running here already (submitting twice is harmless)."""
        with self._lock:
            if self._closed or job_id in self._running or job_id in self._queue:
                return
            self._queue[job_id] = None
            self._lock.notify()

    def cancel(self, job_id: int) -> None:
        """Drops a queued job, or terminates the worker of a running one with all it started."""
        with self._lock:
            self._queue.pop(job_id, None)
            worker = self._running.get(job_id)
        if worker is not None:
            self._terminate(worker)

    def close(self, timeout: float | None = None) -> None:
        """Stops taking jobs and terminates running workers: their attempts fail as transient, so
        that the jobs resume from their last saved state when a server runs again."""
        with self._lock:
            self._closed = True
            self._queue.clear()
            workers = list(self._running.values())
            self._lock.notify()
        threads = [threading.Thread(target=self._terminate, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout)
        self._thread.join(timeout if timeout is not None else self.settings.kill_grace_seconds + 5)

    # -- introspection ---------------------------------------------------------------------------

    def running(self) -> dict[int, int]:
        """Job id -> worker pid, for the jobs running here now."""
        with self._lock:
            return {job_id: w.process.pid for job_id, w in self._running.items()}

    def queued(self) -> list[int]:
        with self._lock:
            return list(self._queue)

    # -- the loop --------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._closed and not self._running:
                    return
                if not self._queue or len(self._running) >= self.settings.slots:
                    self._lock.wait(_POLL)
                ready = self._take()
            for job_id in ready:
                self._spawn(job_id)
            self._collect()

    def _take(self) -> list[int]:
        ready: list[int] = []
        while self._queue and len(self._running) + len(ready) < self.settings.slots and not self._closed:
            first = next(iter(self._queue))
            del self._queue[first]
            ready.append(first)
        return ready

    def _spawn(self, job_id: int) -> None:
        try:
            process = subprocess.Popen(
                [*self.command, str(job_id)],
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so that a cancel reaches all of it
            )
        except OSError:
            log.exception("job %s: the worker process could not be started", job_id)
            return
        with self._lock:
            self._running[job_id] = _Worker(job_id, process, time.monotonic())
        log.info("job %s: worker %s started", job_id, process.pid)

    def _environment(self) -> dict[str, str]:
        settings = self.ctx.settings
        # The worker decides retries and heartbeats by the same settings as the executor that runs it.
        env = {**os.environ, **self.settings.to_env(), **self.extra_env}
        env["FERRY_DATABASE_URL"] = self.ctx.store.url
        env["FERRY_HOME"] = str(settings.home)
        if settings.secret_key:
            env["FERRY_SECRET_KEY"] = settings.secret_key
        return env

    def _collect(self) -> None:
        with self._lock:
            ended = [w for w in self._running.values() if w.process.poll() is not None]
            for worker in ended:
                del self._running[worker.job_id]
            if ended:
                self._lock.notify()
        for worker in ended:
            self._after_exit(worker)

    def _after_exit(self, worker: _Worker) -> None:
        code = worker.process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        reason = f"the worker process {worker.process.pid} {how} without closing its attempt"
        try:
            policy = self.settings.retry
            status = recovery.abandon_worker(self.ctx, worker.job_id, worker.name, reason, policy)
        except Exception:
            log.exception("job %s: the attempt of worker %s could not be closed", worker.job_id, worker.name)
            return
        if status is not None:
            log.warning("job %s: %s; the job is now %s", worker.job_id, reason, status)

    def _terminate(self, worker: _Worker) -> None:
        proctree.terminate_tree(
            worker.process.pid, self.settings.kill_grace_seconds, reap=worker.process.poll
        )
