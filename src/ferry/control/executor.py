"""The executor seam: how a queued job gets run. The local one here runs attempts in threads of the server.

`submit` is called after a job is committed; `cancel` after it was marked cancelled in the store (the
fence is already raised, so the attempt cannot save state, whatever the executor does). A process-based
executor and a Celery one implement the same protocol.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from ferry.control.services.context import Control

log = logging.getLogger("ferry.control.executor")


class Executor(Protocol):
    def submit(self, job_id: int) -> None: ...

    def cancel(self, job_id: int) -> None: ...

    def close(self) -> None: ...


class ThreadExecutor:
    """Runs each job's attempt in a background thread, at most `slots` at a time."""

    def __init__(self, ctx: Control, slots: int = 2) -> None:
        self.ctx = ctx
        self._slots = threading.BoundedSemaphore(slots)
        self._running: dict[int, tuple[threading.Thread, threading.Event]] = {}
        self._lock = threading.Lock()

    def submit(self, job_id: int) -> None:
        stop = threading.Event()
        thread = threading.Thread(
            target=self._run, args=(job_id, stop), name=f"ferry-job-{job_id}", daemon=True
        )
        with self._lock:
            self._running[job_id] = (thread, stop)
        thread.start()

    def _run(self, job_id: int, stop: threading.Event) -> None:
        from ferry.control.services.runs import run_job

        try:
            with self._slots:
                if not stop.is_set():
                    run_job(self.ctx, job_id, "local-thread", stop)
        except Exception:
            log.exception("job %s could not be run", job_id)
        finally:
            with self._lock:
                self._running.pop(job_id, None)

    def cancel(self, job_id: int) -> None:
        with self._lock:
            entry = self._running.get(job_id)
        if entry is not None:
            entry[1].set()

    def close(self, timeout: float = 10.0) -> None:
        with self._lock:
            entries = list(self._running.values())
        for _, stop in entries:
            stop.set()
        for thread, _ in entries:
            thread.join(timeout)
