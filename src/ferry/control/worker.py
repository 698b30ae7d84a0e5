"""`python -m ferry.control.worker JOB_ID`: runs the next attempt of one job, then exits.

It needs only the store (FERRY_DATABASE_URL, or --database-url) and the secret key that sealed the
connector configs (FERRY_SECRET_KEY, or the key file in FERRY_HOME), so a worker on another machine
can run it. While the attempt runs, a thread writes its heartbeat; when the attempt is no longer the
current one (the job was cancelled, or the attempt was taken for dead and replaced), the worker
stops its sync and its connectors. SIGTERM stops it the same way; the attempt then fails as a
transient error, so the job resumes from its last saved state.

Exit codes: 0 when the attempt ran to an end (whatever the job's outcome) or the job was not
runnable; 1 when the worker itself failed; 143 when it had to be stopped before it could close.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import replace
from types import FrameType
from typing import TYPE_CHECKING

from ferry.errors import TransientError

if TYPE_CHECKING:
    from ferry.control.execution import ExecutionSettings
    from ferry.control.services.attempts import Ticket
    from ferry.control.services.context import Control

log = logging.getLogger("ferry.worker")


class AttemptStoppedError(TransientError):
    """The worker was told to stop (SIGTERM, or its attempt is no longer current)."""


class _Stopper:
    """Turns SIGTERM into AttemptStoppedError in the main thread, once, while the attempt runs."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.armed = False
        self.reason = "the worker received SIGTERM"

    def request(self, reason: str) -> None:
        self.reason = reason
        os.kill(os.getpid(), signal.SIGTERM)

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        first = not self.stop.is_set()
        self.stop.set()
        if self.armed and first:
            self.armed = False
            raise AttemptStoppedError(self.reason, hint="The job resumes from its last saved state.")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging(args.job_id)
    try:
        return _run(args)
    except Exception:
        log.exception("worker for job %s failed", args.job_id)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ferry.control.worker", description=__doc__)
    parser.add_argument("job_id", type=int, help="the job to run the next attempt of")
    parser.add_argument("--database-url", help="the config store (default: FERRY_DATABASE_URL)")
    parser.add_argument("--name", help="how the attempt names this worker (default: host:pid)")
    parser.add_argument(
        "--heartbeat", type=float, help="seconds between heartbeats (default: FERRY_ATTEMPT_HEARTBEAT)"
    )
    return parser


def _configure_logging(job_id: int) -> None:
    from ferry.cdk.secrets import install_log_masking

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s worker[job {job_id}] %(name)s: %(message)s",
    )
    install_log_masking()


def _run(args: argparse.Namespace) -> int:
    from ferry.control.executor_process import worker_name
    from ferry.control.services import attempts
    from ferry.control.services.runs import run_attempt

    ctx, execution = _connect(args.database_url)
    heartbeat = args.heartbeat or execution.heartbeat_seconds
    stop = threading.Event()
    stopper = _Stopper(stop)
    signal.signal(signal.SIGTERM, stopper)
    try:
        ticket = attempts.start(ctx, args.job_id, args.name or worker_name(os.getpid()))
    except AttemptStoppedError:
        return 143
    if ticket is None:
        log.info("job %s is not waiting to run; nothing to do", args.job_id)
        return 0
    if stop.is_set():
        return 143  # told to stop while starting: the executor closes the attempt
    beat = threading.Thread(
        target=_heartbeat, args=(ctx, ticket, heartbeat, execution.kill_grace_seconds, stopper), daemon=True
    )
    beat.start()
    stopper.armed = True
    try:
        status = run_attempt(
            ctx,
            ticket,
            stop,
            policy=execution.retry,
            heartbeat=None,
            capture_logging=True,
            sync_options=execution.sync_options(),
        )
    except AttemptStoppedError:
        return 143  # stopped before the attempt could be closed: the executor or the scheduler closes it
    finally:
        stopper.armed = False
        stop.set()
    log.info("attempt %s of job %s ended; the job is %s", ticket.number, ticket.job_id, status)
    return 0


def _heartbeat(ctx: Control, ticket: Ticket, every: float, grace: float, stopper: _Stopper) -> None:
    """Beats until the attempt ends; stops the worker when the attempt is no longer current."""
    from ferry.control.services import attempts

    while not stopper.stop.wait(every):
        try:
            current = attempts.is_current(ctx, ticket)
        except Exception:
            # The store may be back before the scheduler gives up on this attempt; try again.
            log.warning("the heartbeat could not be written", exc_info=True)
            continue
        if not current:
            reason = f"attempt {ticket.number} of job {ticket.job_id} is no longer current"
            reason += " (cancelled, or replaced after it was taken for dead)"
            log.warning("%s; stopping", reason)
            stopper.request(reason)
            _last_resort(grace)
            return


def _last_resort(grace: float) -> None:
    """If the main thread cannot stop (stuck in a call that signals do not interrupt), end the worker
    and everything it started; the attempt is no longer current, so nothing of it needs closing."""
    from ferry.control import proctree

    time.sleep(grace)
    log.error("the worker did not stop within %g s; killing it", grace)
    for pid in proctree.descendants(os.getpid()):
        proctree.terminate_tree(pid, 1.0, first=signal.SIGKILL)
    logging.shutdown()
    os._exit(143)


def _connect(database_url: str | None) -> tuple[Control, ExecutionSettings]:
    from ferry.control.execution import ExecutionSettings
    from ferry.control.secrets import SecretBox, load_key
    from ferry.control.services.context import Control
    from ferry.control.settings import Settings
    from ferry.control.store import Store

    settings = Settings.from_env()
    if database_url:
        settings = replace(settings, database_url=database_url)
    # No migration here: the server that queued the job has brought the store up to date.
    box = SecretBox(load_key(settings.secret_key, settings.key_file))
    return Control(Store(settings.database_url), box, settings), ExecutionSettings.from_env()


def _exit(code: int) -> None:
    """Ends the process without the interpreter's slow teardown (Arrow, DuckDB, thread joins): the
    attempt is closed and its log written, so only the slot it holds would be kept waiting."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main())
