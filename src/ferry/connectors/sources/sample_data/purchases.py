"""The `purchases` stream: who bought which product, how many, for how much, and where it stands."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa

from ferry.connectors.sources.sample_data import vocabulary as words
from ferry.connectors.sources.sample_data.blocks import (
    TIMESTAMP,
    Table,
    cents,
    chance,
    pick,
    schema,
    timestamps,
    vocabulary,
    weighted,
)
from ferry.connectors.sources.sample_data.products import MAX_PRODUCTS, product_prices
from ferry.connectors.sources.sample_data.timeline import Timeline

SCHEMA = schema(
    ("id", pa.int64()),
    ("user_id", pa.int64()),
    ("product_id", pa.int64()),
    ("quantity", pa.int64()),
    ("unit_price", pa.float64()),
    ("total", pa.float64()),
    ("status", pa.string()),
    ("is_gift", pa.bool_()),
    ("coupon_code", pa.string()),
    ("delivered_on", pa.date32()),
    ("created_at", TIMESTAMP),
    ("updated_at", TIMESTAMP),
)
TIMELINE = Timeline.of(dt.datetime(2023, 1, 1, tzinfo=dt.UTC), dt.timedelta(seconds=10))

_DAY_US = 86_400 * 1_000_000
_QUANTITY_WEIGHTS = (0.6, 0.2, 0.1, 0.06, 0.04)
_STATUS = vocabulary([status for status, _ in words.STATUSES])
_DELIVERED = np.array([status in words.DELIVERED_STATUSES for status, _ in words.STATUSES])
_COUPONS = vocabulary(words.COUPON_CODES)


def _referenced_ids(rng: np.random.Generator, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Purchase i only refers to users and products that exist whenever purchase i does (ids <= i),
    # so references stay valid for every count without depending on it.
    user_id = 1 + np.floor(rng.random(ids.size) * ids).astype(np.int64)
    catalogue = np.minimum(ids, MAX_PRODUCTS)
    # Squaring skews purchases towards the first products: a few best sellers, a long tail.
    product_id = 1 + np.floor(rng.random(ids.size) ** 2 * catalogue).astype(np.int64)
    return user_id, product_id


def _delivered_on(
    rng: np.random.Generator, created: np.ndarray, updated: np.ndarray, status: np.ndarray
) -> pa.Array[Any]:
    moment = created + np.floor((updated - created) * rng.random(created.size)).astype(np.int64)
    days = (moment // _DAY_US).astype(np.int32)
    return pa.array(days, type=pa.date32(), mask=~_DELIVERED[status])


def _columns(rng: np.random.Generator, ids: np.ndarray, seed: int) -> list[pa.Array[Any]]:
    n = ids.size
    updated = TIMELINE.updated_at(rng, ids)
    created = updated - rng.integers(0, 30 * _DAY_US, n)
    user_id, product_id = _referenced_ids(rng, ids)
    quantity = 1 + weighted(rng, _QUANTITY_WEIGHTS, n).astype(np.int64)
    unit_price = product_prices(seed)[product_id - 1]
    status = weighted(rng, [weight for _, weight in words.STATUSES], n)
    is_gift = pa.array(chance(rng, 0.08, n))
    coupon = pick(_COUPONS, rng.integers(0, len(words.COUPON_CODES), n), null=~chance(rng, 0.15, n))
    return [
        pa.array(ids),
        pa.array(user_id),
        pa.array(product_id),
        pa.array(quantity),
        pa.array(unit_price),
        pa.array(cents(unit_price * quantity)),
        pick(_STATUS, status),
        is_gift,
        coupon,
        _delivered_on(rng, created, updated, status),
        timestamps(created),
        timestamps(updated),
    ]


PURCHASES = Table("purchases", 3, SCHEMA, TIMELINE, _columns)
