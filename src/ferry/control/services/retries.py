"""When a failed attempt is tried again, and after how long: decided by the error's type, never its text.

Transient and system errors (a network blip, a crash, a worker that died) are retried with back-off
while attempts remain; config errors (the user must fix something) and cancels are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ferry.control.errors import FencedError
from ferry.engine import SyncCancelled
from ferry.errors import FerryError
from ferry.protocol import FailureType


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`max_attempts` in all per job; `backoff[n-1]` seconds to wait after the n-th failed attempt
    (the last value repeats)."""

    max_attempts: int = 3
    backoff: Sequence[float] = (1.0, 5.0, 25.0)

    def delay(self, failed_attempts: int) -> float:
        if not self.backoff:
            return 0.0
        return float(self.backoff[min(max(failed_attempts, 1), len(self.backoff)) - 1])

    def allows_another(self, attempt_number: int) -> bool:
        """Whether the attempt numbered `attempt_number` (0-based) may be followed by another."""
        return attempt_number + 1 < self.max_attempts

    def should_retry(self, error: FerryError | None, attempt_number: int) -> bool:
        return error is not None and retryable(error) and self.allows_another(attempt_number)


NO_RETRIES = RetryPolicy(max_attempts=1, backoff=())


def retryable(error: FerryError) -> bool:
    """Whether trying again can help: not for config errors, and not when the job was cancelled or
    the attempt superseded (those are not failures to repeat)."""
    if isinstance(error, FencedError | SyncCancelled):
        return False
    return error.failure_type is not FailureType.config_error
