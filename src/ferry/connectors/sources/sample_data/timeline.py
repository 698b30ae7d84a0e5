"""The cursor of a generated stream: `updated_at` as a function of the row id, and its state text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = 1_000_000


def micros(moment: dt.datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


@dataclass(frozen=True, slots=True)
class Timeline:
    """Row `id` is updated at `start + id * step + jitter`, with 0 <= jitter < step.

    So `updated_at` strictly increases with the id (each row's cursor is unique and the stream comes
    in cursor order), and the first row newer than a cursor is found without generating anything.
    """

    start_us: int
    step_us: int

    @classmethod
    def of(cls, start: dt.datetime, step: dt.timedelta) -> Timeline:
        return cls(micros(start), step // dt.timedelta(microseconds=1))

    def updated_at(self, rng: np.random.Generator, ids: np.ndarray) -> np.ndarray:
        jitter = rng.integers(0, self.step_us, ids.size, dtype=np.int64)
        return self.start_us + ids * self.step_us + jitter

    def first_candidate(self, after_us: int) -> int:
        """An id such that every row before it has updated_at <= after_us and every row after it more."""
        return max(1, (after_us - self.start_us) // self.step_us)


def format_cursor(value_us: int) -> str:
    """ISO 8601 in UTC with microseconds, as the state's `updated_at`."""
    return (_EPOCH + dt.timedelta(microseconds=value_us)).isoformat(timespec="microseconds")


def parse_cursor(text: str) -> int:
    """Microseconds since the epoch for an ISO 8601 text; a time without an offset is taken as UTC."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return micros(value)
