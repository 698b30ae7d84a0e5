"""The prefetch buffer: order, errors, and the bound on items and bytes that is the back-pressure."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from ferry.engine.prefetch import prefetch


def counted(n: int, pulled: list[int]) -> Iterator[int]:
    for i in range(n):
        pulled.append(i)
        yield i


def settle(pulled: list[int]) -> int:
    """How many items the producer has taken once it stops moving."""
    before = -1
    while before != len(pulled):
        before = len(pulled)
        time.sleep(0.2)
    return len(pulled)


def test_items_arrive_in_order_and_all_of_them() -> None:
    assert list(prefetch(iter(range(1000)), depth=3)) == list(range(1000))


def test_an_error_in_the_producer_is_raised_in_the_consumer_after_the_items_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("source broke")

    items = prefetch(failing())
    assert next(items) == 1
    with pytest.raises(ValueError, match="source broke"):
        next(items)


def test_the_producer_runs_ahead_by_at_most_depth_items() -> None:
    pulled: list[int] = []
    items = prefetch(counted(100, pulled), depth=5)
    assert next(items) == 0
    # 1 handed over, 5 buffered, 1 taken from the source and waiting for room
    assert settle(pulled) == 7
    assert list(items) == list(range(1, 100))


def test_the_producer_runs_ahead_by_at_most_max_bytes() -> None:
    pulled: list[int] = []
    items = prefetch(counted(100, pulled), depth=1000, max_bytes=35, weigh=lambda _: 10)
    assert next(items) == 0
    # 1 handed over, 3 buffered (30 bytes), 1 waiting because a 4th would make 40 > 35
    assert settle(pulled) == 5
    assert list(items) == list(range(1, 100))


def test_an_item_larger_than_max_bytes_still_passes_when_the_buffer_is_empty() -> None:
    assert list(prefetch(iter(range(5)), max_bytes=1, weigh=lambda _: 100)) == list(range(5))


def test_stopping_early_ends_the_producer_thread() -> None:
    before = threading.active_count()
    items = prefetch(counted(10**9, []), depth=2, name="ferry-test-prefetch")
    assert next(items) == 0
    items.close()  # type: ignore[attr-defined]
    assert threading.active_count() == before
