"""Encoding the next batch while the server loads the previous one.

The server parsing a COPY and Ferry encoding a batch are both CPU work; run one after the other
they leave a core idle. One worker thread encodes (pyarrow and numpy release the GIL for the heavy
parts) while the caller's thread COPYs, so at most two batches are in memory at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from ferry.cdk.batching import RecordBatch
from ferry.connectors.destinations.postgres.encoding import BatchEncoder, Encoded

S = TypeVar("S")

IN_FLIGHT = 2
"""Batches encoded ahead of the COPY in progress; bounds memory to a few batches."""


@dataclass(slots=True)
class Pending(Generic[S]):
    stream: S
    batch: RecordBatch
    encoded: Future[Encoded]


class EncodePipeline(Generic[S]):
    """Batches go in with `submit`; `load` is called for each, in order, with its encoded payload."""

    def __init__(self, load: Callable[[Pending[S]], None]) -> None:
        self._load = load
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ferry-pg-encode")
        self._queue: deque[Pending[S]] = deque()

    def submit(self, stream: S, batch: RecordBatch, encoder: BatchEncoder) -> None:
        future = self._pool.submit(encoder.encode, batch.data, batch.emitted_at)
        self._queue.append(Pending(stream, batch, future))
        while len(self._queue) > IN_FLIGHT:
            self._load(self._queue.popleft())

    def drain(self) -> None:
        """Load everything submitted (before a commit, a swap or a merge)."""
        while self._queue:
            self._load(self._queue.popleft())

    def close(self) -> None:
        """Forget what was not loaded (the transaction it belonged to is rolled back)."""
        for pending in self._queue:
            pending.encoded.cancel()
        self._queue.clear()
        self._pool.shutdown(wait=True)
