"""An external destination run as a subprocess (`write --config --catalog`, messages on stdin) behind the
DestinationRunner interface.

Records go to it as JSON lines, states unchanged (with the `id` the engine's ledger added), and the
COMPLETE stream statuses the engine sends after a successful source, before its input is closed.
A thread reads its stdout so that it never blocks on a full pipe; the states it echoes are handed
to the engine, which checks their order and counts before saving them.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ferry.cdk import DestinationInput, RecordBatch
from ferry.cdk.secrets import mask
from ferry.engine.launcher.batches import batch_lines
from ferry.engine.launcher.catalogs import destination_modes, for_destination
from ferry.engine.launcher.commands import ConnectorCommands, SpecStore, decode_line, stderr_message
from ferry.engine.launcher.control import ConfigCallback
from ferry.engine.launcher.failures import failure
from ferry.engine.launcher.limits import Limits
from ferry.engine.launcher.process import ConnectorProcess
from ferry.engine.launcher.programs import Program
from ferry.errors import ConnectorError, error_from_failure_type
from ferry.protocol import (
    ConfiguredCatalog,
    ConnectionStatus,
    ConnectorSpecification,
    DestinationSyncMode,
    ErrorTrace,
    Level,
    Message,
    TraceType,
    Type,
    encode,
    log_message,
    to_obj,
)

_END = object()
_POLL = 0.2


class SubprocessDestination:
    """A destination connector that is a program speaking the Airbyte protocol."""

    def __init__(
        self,
        program: Program,
        config: Mapping[str, Any],
        *,
        limits: Limits | None = None,
        spec_store: SpecStore | None = None,
        on_config_change: ConfigCallback | None = None,
        spec: ConnectorSpecification | None = None,
        supports_refreshes: bool = False,
        validate: bool = True,
    ) -> None:
        self.commands = ConnectorCommands(
            program,
            "destination",
            config,
            limits=limits or Limits(),
            spec_store=spec_store,
            on_config_change=on_config_change,
            spec=spec,
        )
        self.name = program.name
        self.supports_refreshes = supports_refreshes
        if validate:
            self.commands.validate()

    @property
    def config(self) -> dict[str, Any]:
        return self.commands.config

    @property
    def supported_sync_modes(self) -> Sequence[DestinationSyncMode]:
        return destination_modes(self.spec().supported_destination_sync_modes, self.supports_refreshes)

    def spec(self) -> ConnectorSpecification:
        return self.commands.spec()

    def check(self) -> ConnectionStatus:
        return self.commands.check()

    def stop(self) -> None:
        self.commands.stop()

    def write(self, catalog: ConfiguredCatalog, messages: Iterable[DestinationInput]) -> Iterator[Message]:
        files = {
            "config.json": self.config,
            "catalog.json": to_obj(for_destination(catalog, self.supports_refreshes)),
        }
        args = ["write", "--config", "{config.json}", "--catalog", "{catalog.json}"]
        with self.commands.process(args, files, with_stdin=True) as proc:
            yield from _Writer(self.commands, proc).run(messages)


class _Writer:
    """One write: feeds stdin from the engine's messages and hands back what the destination says."""

    def __init__(self, commands: ConnectorCommands, proc: ConnectorProcess) -> None:
        self.commands = commands
        self.proc = proc
        self.answers: queue.Queue[object] = queue.Queue()
        self.ended = False
        self.errors: list[ErrorTrace] = []
        self._reader = threading.Thread(target=self._read, name=f"ferry-stdout-{commands.name}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for line in self.proc.lines():
                self.answers.put(decode_line(line))
        except (OSError, ValueError):
            pass  # the pipe went away with the process; the exit code tells the rest
        finally:
            self.answers.put(_END)

    def run(self, messages: Iterable[DestinationInput]) -> Iterator[Message]:
        upstream: Exception | None = None
        accepted = True
        items = iter(messages)
        while accepted:
            try:
                item = next(items)
            except StopIteration:
                break
            except (
                Exception
            ) as exc:  # the source or the engine failed: let the destination finish what it has
                upstream = exc
                break
            accepted = self._send(item)
            yield from self._answered(block=False)
        self._close_input()
        yield from self._answered(block=True)
        error = failure(self.commands.outcome(self.proc, self.errors), self.commands.limits)
        yield from self._stderr()
        if upstream is not None:
            raise upstream
        if error is not None:
            raise error
        if not accepted:
            raise ConnectorError(
                f"destination '{self.commands.name}' stopped reading its input before the end and exited 0",
                connector=self.commands.name,
                hint="The destination dropped records; no state after them was saved.",
            )

    # -- input -----------------------------------------------------------------------------------

    def _send(self, item: DestinationInput) -> bool:
        if isinstance(item, RecordBatch):
            data, flush = batch_lines(item), False
        else:
            data, flush = encode(item), True
        try:
            self.proc.stdin.write(data)
            if flush:
                self.proc.stdin.flush()  # a state must reach the destination now, not with the next batch
        except (BrokenPipeError, ConnectionResetError, ValueError):
            return False
        self.proc.activity += 1
        return True

    def _close_input(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, ValueError):
            self.proc.stdin.close()

    # -- output ----------------------------------------------------------------------------------

    def _answered(self, block: bool) -> Iterator[Message]:
        while not self.ended:
            try:
                item = self.answers.get(timeout=_POLL) if block else self.answers.get_nowait()
            except queue.Empty:
                if not block:
                    break
                yield from self._stderr()
                continue
            if item is _END:
                self.ended = True
                break
            assert isinstance(item, Message)
            yield from self._handle(item)
        yield from self._stderr()

    def _handle(self, message: Message) -> Iterator[Message]:
        if message.type in (Type.STATE, Type.LOG):
            yield message
        elif message.type is Type.TRACE and message.trace is not None:
            error = message.trace.error
            if message.trace.type is TraceType.ERROR and error is not None:
                raise error_from_failure_type(
                    error.failure_type,
                    f"destination '{self.commands.name}' failed: {mask(error.message)}",
                    connector=self.commands.name,
                    stream=str(error.stream_descriptor) if error.stream_descriptor else None,
                )
        elif message.type is Type.CONTROL and message.control is not None:
            yield log_message(Level.INFO, self.commands.updates.apply(message.control))

    def _stderr(self) -> Iterator[Message]:
        if self.proc.has_stderr:
            for text in self.proc.stderr_lines():
                yield stderr_message(text)
