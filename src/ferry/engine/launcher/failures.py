"""How a connector run ended, as one of Ferry's error types: TRACE errors by their `failure_type`, then
Ferry's own kills (timeout, silence, stop), then the exit code. A non-zero exit always fails."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from dataclasses import dataclass, field

from ferry.cdk.secrets import mask
from ferry.engine.launcher.limits import Limits
from ferry.errors import ConnectorError, FerryError, TransientError, error_from_failure_type
from ferry.protocol import ErrorTrace, FailureType

STOPPED = "stopped"


@dataclass(slots=True)
class Outcome:
    """What one connector run left behind for judging it."""

    connector: str
    role: str
    exit_code: int
    killed: str | None = None
    errors: list[ErrorTrace] = field(default_factory=list)
    stderr_tail: Sequence[str] = ()


def failure(outcome: Outcome, limits: Limits) -> FerryError | None:
    """The error this run ended in, or None when it succeeded (exit 0, no error trace, not killed)."""
    if outcome.killed == STOPPED:
        return ConnectorError(
            f"{outcome.role} '{outcome.connector}' was stopped by Ferry before it finished",
            connector=outcome.connector,
            reason=STOPPED,
        )
    if outcome.killed is not None:
        return _killed(outcome, limits)
    if outcome.errors:
        return _from_trace(outcome)
    if outcome.exit_code == 0 and outcome.killed is None:
        return None
    return ConnectorError(
        f"{outcome.role} '{outcome.connector}' {_exit_text(outcome.exit_code)}{_stderr_text(outcome)}",
        failure_type=FailureType.system_error,
        hint="The connector crashed; its log may say why. The saved state covers committed records only.",
        connector=outcome.connector,
        exit_code=outcome.exit_code,
    )


def _killed(outcome: Outcome, limits: Limits) -> FerryError:
    who = f"{outcome.role} '{outcome.connector}'"
    if outcome.killed == "timeout":
        message = f"{who} ran longer than the limit of {limits.timeout:g}s and was killed"
        hint = "Raise FERRY_CONNECTOR_TIMEOUT, or sync fewer streams at a time."
    else:
        message = f"{who} produced no output for {limits.heartbeat:g}s and was killed as unresponsive"
        hint = "The connector or its network may be stuck; a retry may help. FERRY_HEARTBEAT_TIMEOUT sets it."
    return TransientError(message, hint=hint, connector=outcome.connector, reason=outcome.killed)


def _from_trace(outcome: Outcome) -> FerryError:
    """The first error a connector reported is the cause; later ones (a summary) go into the context."""
    first = outcome.errors[0]
    text = mask(first.message)
    if outcome.exit_code not in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
        text += f" ({outcome.role} '{outcome.connector}' {_exit_text(outcome.exit_code)})"
    error = error_from_failure_type(
        first.failure_type,
        text,
        connector=outcome.connector,
        stream=str(first.stream_descriptor) if first.stream_descriptor else None,
    )
    if first.internal_message:
        error.context["internal_message"] = mask(first.internal_message)
    if len(outcome.errors) > 1:
        error.context["other_errors"] = [mask(e.message) for e in outcome.errors[1:]]
    return error


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with code {code}"


def _stderr_text(outcome: Outcome) -> str:
    lines = [line for line in outcome.stderr_tail if line.strip()][-3:]
    return f"; its last words on stderr: {mask(' | '.join(lines))}" if lines else ""
