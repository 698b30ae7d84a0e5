"""What every external connector answers the same way: spec, check, discover; line decoding; stopping.

`ConnectorCommands` is shared by the source and destination runners (composition, not a base class).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ferry.cdk.secrets import mask, register_secrets
from ferry.cdk.spec import secret_values, validate_config
from ferry.engine.launcher.control import ConfigCallback, ConfigUpdates
from ferry.engine.launcher.failures import Outcome, failure
from ferry.engine.launcher.limits import Limits
from ferry.engine.launcher.process import ConnectorProcess
from ferry.engine.launcher.programs import Program
from ferry.errors import FerryError, InternalError
from ferry.protocol import (
    Catalog,
    ConnectionStatus,
    ConnectionStatusValue,
    ConnectorSpecification,
    ErrorTrace,
    Level,
    Message,
    ProtocolError,
    TraceType,
    Type,
    decode,
    from_obj,
    log_message,
    to_obj,
)

log = logging.getLogger("ferry.launcher")
SpecStore = tuple[Callable[[], dict[str, Any] | None], Callable[[dict[str, Any]], None]]
"""How a runner reads and saves its connector's spec between runs (a managed install keeps it)."""

_LOG_LEVELS = {
    Level.FATAL: logging.CRITICAL,
    Level.ERROR: logging.ERROR,
    Level.WARN: logging.WARNING,
    Level.INFO: logging.INFO,
    Level.DEBUG: logging.DEBUG,
    Level.TRACE: logging.DEBUG,
}


def decode_line(line: bytes) -> Message:
    """A protocol message, or a LOG message holding the line when it is not one (protocol rule)."""
    try:
        return decode(line)
    except ProtocolError:
        text = line.decode("utf-8", errors="replace").rstrip()
        return log_message(Level.INFO, text)


def stderr_message(text: str) -> Message:
    # Airbyte logs a connector's stderr at error level; most of it is tracebacks and warnings.
    return log_message(Level.WARN, f"[stderr] {text}")


class ConnectorCommands:
    """Runs one external connector's commands; holds its config, spec and limits."""

    def __init__(
        self,
        program: Program,
        role: str,
        config: Mapping[str, Any],
        *,
        limits: Limits,
        spec_store: SpecStore | None = None,
        on_config_change: ConfigCallback | None = None,
        spec: ConnectorSpecification | None = None,
    ) -> None:
        self.program = program
        self.name = program.name
        self.role = role
        self.limits = limits
        self._spec_store = spec_store
        self._spec = spec
        self._running: set[ConnectorProcess] = set()
        self._lock = threading.Lock()
        self.config: dict[str, Any] = dict(config)
        self.updates = ConfigUpdates(self.name, self.config, self.spec, on_config_change)

    def validate(self) -> None:
        """Check the config against the connector's spec and learn its secrets, before anything runs."""
        schema = self.spec().connection_specification
        register_secrets(secret_values(schema, self.config))
        validate_config(schema, self.config, self.name)

    # -- processes --------------------------------------------------------------------------------

    def process(
        self, args: Sequence[str], files: Mapping[str, Any], *, with_stdin: bool = False
    ) -> ConnectorProcess:
        return _Tracked(self, self.program, args, files, self.limits, with_stdin=with_stdin)

    def stop(self) -> None:
        """Kill every process of this connector that is still running (cancel, or another part failed)."""
        with self._lock:
            running = list(self._running)
        for proc in running:
            proc.kill("stopped")

    def outcome(self, proc: ConnectorProcess, errors: list[ErrorTrace]) -> Outcome:
        code = proc.wait()
        return Outcome(self.name, self.role, code, proc.killed, errors, list(proc.stderr_tail))

    # -- one-shot commands ---------------------------------------------------------------------------

    def run(self, args: Sequence[str], files: Mapping[str, Any] | None = None) -> list[Message]:
        """Run a command that answers with a few messages; logs go to Python logging; failures raise."""
        answers: list[Message] = []
        errors: list[ErrorTrace] = []
        with self.process(args, files or {}) as proc:
            for line in proc.lines():
                message = decode_line(line)
                if message.type is Type.LOG and message.log is not None:
                    log.log(
                        _LOG_LEVELS.get(message.log.level, logging.INFO),
                        "%s: %s",
                        self.name,
                        mask(message.log.message),
                    )
                elif message.type is Type.TRACE and message.trace is not None:
                    if message.trace.type is TraceType.ERROR and message.trace.error is not None:
                        errors.append(message.trace.error)
                elif message.type is Type.CONTROL and message.control is not None:
                    log.info("%s", self.updates.apply(message.control))
                else:
                    answers.append(message)
            outcome = self.outcome(proc, errors)
        for text in proc.stderr_lines():
            log.warning("%s [stderr]: %s", self.name, mask(text))
        error = failure(outcome, self.limits)
        if error is not None:
            raise error
        return answers

    def spec(self) -> ConnectorSpecification:
        if self._spec is None:
            self._spec = self._load_spec()
        return self._spec

    def _load_spec(self) -> ConnectorSpecification:
        saved = self._spec_store[0]() if self._spec_store else None
        if saved is not None:
            try:
                return from_obj(ConnectorSpecification, saved, "spec")
            except ProtocolError:
                pass  # a damaged cache: ask the connector again
        spec = _only(self.run(["spec"]), Type.SPEC, self).spec
        assert spec is not None
        if self._spec_store:
            self._spec_store[1](to_obj(spec))
        return spec

    def check(self) -> ConnectionStatus:
        try:
            status = _only(
                self.run(["check", "--config", "{config.json}"], {"config.json": self.config}),
                Type.CONNECTION_STATUS,
                self,
            )
        except FerryError as exc:
            return ConnectionStatus(ConnectionStatusValue.FAILED, mask(str(exc)))
        assert status.connection_status is not None
        result = status.connection_status
        if result.message:
            result.message = mask(result.message)
        return result

    def discover(self) -> Catalog:
        answer = _only(
            self.run(["discover", "--config", "{config.json}"], {"config.json": self.config}),
            Type.CATALOG,
            self,
        )
        assert answer.catalog is not None
        return answer.catalog


def _only(messages: list[Message], kind: Type, commands: ConnectorCommands) -> Message:
    for message in messages:
        if message.type is kind:
            return message
    got = ", ".join(sorted({m.type.value for m in messages})) or "nothing"
    raise InternalError(
        f"{commands.role} '{commands.name}' answered without a {kind.value} message (got {got})",
        hint="The program may not be an Airbyte connector, or it failed without saying why.",
        connector=commands.name,
    )


class _Tracked(ConnectorProcess):
    """A process its runner knows about while it runs, so that `stop()` can reach it."""

    def __init__(self, owner: ConnectorCommands, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._owner = owner

    def __enter__(self) -> ConnectorProcess:
        with self._owner._lock:
            self._owner._running.add(self)
        try:
            return super().__enter__()
        except BaseException:
            with self._owner._lock:
                self._owner._running.discard(self)
            raise

    def __exit__(self, *exc: Any) -> None:
        try:
            super().__exit__(*exc)
        finally:
            with self._owner._lock:
                self._owner._running.discard(self)
