"""Runs one attempt of a job in this process through the engine: the body every executor calls.

A sync reads the connection's stream configurations against the source's cached catalog; a clear
(reset) runs the same streams as a full-refresh overwrite from a source that yields nothing, so the
destination swaps in empty tables and the saved positions start over.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from ferry.cdk.secrets import Masker, mask, register_secrets
from ferry.control.services import actors, catalogs, connections, logs, streams
from ferry.control.services.attempts import Ticket, finish, is_current, record_stats, start
from ferry.control.services.context import SYSTEM, Control
from ferry.control.services.retries import NO_RETRIES, RetryPolicy
from ferry.control.store.models import Connection, Job
from ferry.control.store.state import DbStateStore
from ferry.engine import Sync, SyncCancelled
from ferry.engine.ledger import StreamCounts
from ferry.engine.mapping import StreamMapping
from ferry.engine.runners import DestinationRunner, SourceRunner
from ferry.errors import FerryError, InternalError
from ferry.protocol import (
    Catalog,
    ConfiguredCatalog,
    ConnectionStatus,
    ConnectionStatusValue,
    ConnectorSpecification,
    DestinationSyncMode,
    Level,
    StateMessage,
    StreamDescriptor,
    SyncMode,
)

HEARTBEAT_SECONDS = 5.0

logger = logging.getLogger(__name__)


class JobCancelledError(SyncCancelled):
    """The job was cancelled (or the attempt superseded) while this attempt ran."""


@dataclass(slots=True)
class Plan:
    source: SourceRunner
    destination: DestinationRunner
    catalog: ConfiguredCatalog
    full_refresh: bool
    secrets: set[str]
    mapping: StreamMapping


def run_job(
    ctx: Control,
    job_id: int,
    worker: str = "local",
    cancelled: threading.Event | None = None,
    policy: RetryPolicy = NO_RETRIES,
) -> str | None:
    """Runs the job's next attempt to its end; returns the job status, or None if it was not runnable."""
    ticket = start(ctx, job_id, worker)
    if ticket is None:
        return None
    return run_attempt(ctx, ticket, cancelled, policy=policy)


def run_attempt(
    ctx: Control,
    ticket: Ticket,
    cancelled: threading.Event | None = None,
    *,
    policy: RetryPolicy = NO_RETRIES,
    heartbeat: float | None = HEARTBEAT_SECONDS,
    capture_logging: bool = False,
    sync_options: Mapping[str, float] | None = None,
) -> str:
    """Runs a started attempt; returns the job status afterwards.

    A failure leaves the job `incomplete` (to be retried) when `policy` allows another attempt for
    its error type. `heartbeat`: how often the attempt checks, between records, that it is still
    current (None when the caller heartbeats on its own). `capture_logging`: copy every log record
    of this process into the attempt's log (a worker process runs one attempt, so all of it belongs).
    `sync_options`: the engine's commit cadence (commit_rows, commit_seconds), when not its default.
    Once the attempt is closed its log is copied into the store, for servers on other machines.
    """
    ticket.log_path.parent.mkdir(parents=True, exist_ok=True)
    with ticket.log_path.open("a", encoding="utf-8") as log:
        observer = AttemptObserver(ctx, ticket, log, cancelled or threading.Event(), heartbeat)
        with _captured(observer, capture_logging):
            status = _run(ctx, ticket, observer, policy, dict(sync_options or {}))
    _keep_log(ctx, ticket)
    return status


def _run(
    ctx: Control, ticket: Ticket, observer: AttemptObserver, policy: RetryPolicy, options: dict[str, Any]
) -> str:
    try:
        plan = load_plan(ctx, ticket)
        observer.masker.add(plan.secrets)
        register_secrets(plan.secrets)  # for every other log line this process writes
        observer.on_log(Level.INFO, f"attempt {ticket.number} of job {ticket.job_id} started")
        result = Sync(
            plan.source,
            plan.destination,
            plan.catalog,
            DbStateStore(ctx.store, ticket.connection_id, ticket.fence),
            full_refresh=plan.full_refresh,
            observer=observer,
            mapping=plan.mapping,
            **options,
        ).run()
    except FerryError as exc:
        observer.on_log(Level.ERROR, str(exc))
        return _failed(ctx, ticket, exc, policy)
    except Exception as exc:  # an attempt must always be closed, whatever broke
        error = InternalError(mask(f"{type(exc).__name__}: {exc}"))
        observer.on_log(Level.ERROR, str(error))
        return _failed(ctx, ticket, error, policy)
    record_stats(ctx, ticket, result.streams, result.seconds)
    outcome = "succeeded" if result.succeeded else f"failed: {result.error}"
    observer.on_log(Level.INFO if result.succeeded else Level.ERROR, f"attempt {outcome}")
    if result.error is not None:
        return _failed(ctx, ticket, result.error, policy)
    return finish(ctx, ticket, succeeded=True)


def _failed(ctx: Control, ticket: Ticket, error: FerryError, policy: RetryPolicy) -> str:
    retry = policy.should_retry(error, ticket.number)
    status = finish(ctx, ticket, succeeded=False, failure=error.to_dict(), retry=retry)
    if status == "incomplete":
        _note(ticket, f"will retry in {policy.delay(ticket.number + 1):g} s ({error.failure_type.value})")
    return status


def _keep_log(ctx: Control, ticket: Ticket) -> None:
    """Copies the closed attempt's log (masked as written) into the store. The attempt's outcome is
    already recorded, so a store that fails here costs only the copy, not the job's status."""
    try:
        logs.store_copy(ctx, ticket.attempt_id, ticket.log_path)
    except Exception:
        logger.warning(
            "the log of attempt %s of job %s could not be copied into the store",
            ticket.number,
            ticket.job_id,
            exc_info=True,
        )


def _note(ticket: Ticket, text: str) -> None:
    """One line appended to the attempt's log from outside its observer."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    with ticket.log_path.open("a", encoding="utf-8") as log:
        log.write(f"{stamp} {Level.INFO.value} {mask(text)}\n")


@contextmanager
def _captured(observer: AttemptObserver, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    handler = _ToAttemptLog(observer)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


_LEVELS = ((logging.ERROR, Level.ERROR), (logging.WARNING, Level.WARN), (logging.INFO, Level.INFO))


class _ToAttemptLog(logging.Handler):
    """Log records of this process (engine, in-process connectors, launcher) into the attempt's log."""

    def __init__(self, observer: AttemptObserver) -> None:
        super().__init__(logging.INFO)
        self.observer = observer

    def emit(self, record: logging.LogRecord) -> None:
        level = next((lv for number, lv in _LEVELS if record.levelno >= number), Level.DEBUG)
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        self.observer.on_log(level, text)


def load_plan(ctx: Control, ticket: Ticket) -> Plan:
    from ferry.engine.connectors import destination_runner, source_runner

    with ctx.store.read() as session:
        connection = session.get(Connection, ticket.connection_id)
        job = session.get(Job, ticket.job_id)
        assert connection is not None
        assert job is not None
        source = actors.load(session, SYSTEM, "source", connection.source_id)
        destination = actors.load(session, SYSTEM, "destination", connection.destination_id)
    catalog = streams.configured_catalog(
        catalogs.catalog_of(ctx, source), connection.streams, connections.destination_modes(destination)
    )
    secrets = ctx.box.secrets(source.row.configuration) | ctx.box.secrets(destination.row.configuration)
    dest_runner = destination_runner(destination.definition.reference, actors.plain_config(ctx, destination))
    mapping = connections.stream_mapping(connection)
    if ticket.job_type == "clear":
        chosen = {tuple(s) if isinstance(s, list) else s for s in job.streams or []}
        empty = _Empty(source.definition.reference)
        return Plan(empty, dest_runner, _clearing(catalog, chosen), True, secrets, mapping)
    src_runner = source_runner(source.definition.reference, actors.plain_config(ctx, source))
    return Plan(src_runner, dest_runner, catalog, False, secrets, mapping)


def _clearing(catalog: ConfiguredCatalog, chosen: set[Any]) -> ConfiguredCatalog:
    out = []
    for stream in catalog.streams:
        if chosen and stream.stream.name not in chosen:
            continue
        dedup = stream.destination_sync_mode in (
            DestinationSyncMode.append_dedup,
            DestinationSyncMode.overwrite_dedup,
        )
        mode = DestinationSyncMode.overwrite_dedup if dedup else DestinationSyncMode.overwrite
        out.append(dataclasses.replace(stream, sync_mode=SyncMode.full_refresh, destination_sync_mode=mode))
    return ConfiguredCatalog(out)


class _Empty:
    """A source that reads nothing: with overwrite it leaves the destination's streams empty."""

    def __init__(self, name: str) -> None:
        self.name = name

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(connection_specification={})

    def check(self) -> ConnectionStatus:
        return ConnectionStatus(ConnectionStatusValue.SUCCEEDED)

    def discover(self) -> Catalog:
        return Catalog([])

    def read(self, catalog: ConfiguredCatalog, state: Sequence[StateMessage]) -> Iterator[Any]:
        return iter(())


class AttemptObserver:
    """Writes the attempt's log (secrets masked), stores stats at checkpoints, heartbeats, stops on cancel."""

    def __init__(
        self,
        ctx: Control,
        ticket: Ticket,
        log: TextIO,
        cancelled: threading.Event,
        heartbeat: float | None = HEARTBEAT_SECONDS,
    ) -> None:
        self.ctx, self.ticket, self.log, self.cancelled = ctx, ticket, log, cancelled
        self.heartbeat = heartbeat
        self.masker = Masker()
        self.started = time.monotonic()
        self.last_beat = self.started
        self._write_lock = threading.Lock()  # the source's reader thread logs too

    def on_records(self, stream: StreamDescriptor, count: int) -> None:
        if self.cancelled.is_set():
            raise JobCancelledError(f"job {self.ticket.job_id} was cancelled")
        if self.heartbeat is not None and time.monotonic() - self.last_beat >= self.heartbeat:
            self.last_beat = time.monotonic()
            if not is_current(self.ctx, self.ticket):
                raise JobCancelledError(
                    f"attempt {self.ticket.number} of job {self.ticket.job_id} is no longer current"
                )

    def on_checkpoint(self, streams: dict[StreamDescriptor, StreamCounts]) -> None:
        record_stats(self.ctx, self.ticket, streams, time.monotonic() - self.started)

    def on_log(self, level: Level, text: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        line = f"{stamp} {level.value} {self.masker(mask(text))}\n"
        with self._write_lock:
            self.log.write(line)
            self.log.flush()
