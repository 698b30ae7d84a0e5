"""The `products` stream: a catalogue of at most MAX_PRODUCTS items with prices and categories."""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from ferry.connectors.sources.sample_data import vocabulary as words
from ferry.connectors.sources.sample_data.blocks import (
    TIMESTAMP,
    Table,
    cents,
    chance,
    concat,
    digits,
    pick,
    schema,
    timestamps,
    vocabulary,
)
from ferry.connectors.sources.sample_data.timeline import Timeline

MAX_PRODUCTS = 1_000
"""A shop's catalogue stays small while users and purchases grow: products = min(count, MAX_PRODUCTS)."""

SCHEMA = schema(
    ("id", pa.int64()),
    ("sku", pa.string()),
    ("name", pa.string()),
    ("category", pa.string()),
    ("price", pa.float64()),
    ("in_stock", pa.bool_()),
    ("weight_kg", pa.float64()),
    ("created_at", TIMESTAMP),
    ("updated_at", TIMESTAMP),
)
TIMELINE = Timeline.of(dt.datetime(2022, 6, 1, tzinfo=dt.UTC), dt.timedelta(hours=1))

_DAY_US = 86_400 * 1_000_000
_PRICE_RANGE = (math.log(3.0), math.log(800.0))  # log-uniform: many cheap items, a few expensive ones
_PRICE_ENDINGS = np.array([0.99, 0.49, 0.0])

_ADJECTIVES = vocabulary(words.PRODUCT_ADJECTIVES)
_MATERIALS = vocabulary(words.PRODUCT_MATERIALS)
_NOUNS = vocabulary([noun for noun, _ in words.PRODUCT_NOUNS])
_CATEGORIES = vocabulary([category for _, category in words.PRODUCT_NOUNS])


def _prices(rng: np.random.Generator, n: int) -> np.ndarray:
    low, high = _PRICE_RANGE
    whole = np.floor(np.exp(low + rng.random(n) * (high - low)))
    return cents(whole + _PRICE_ENDINGS[rng.integers(0, len(_PRICE_ENDINGS), n)])


def _columns(rng: np.random.Generator, ids: np.ndarray, seed: int) -> list[pa.Array[Any]]:
    n = ids.size
    updated = TIMELINE.updated_at(rng, ids)
    created = updated - rng.integers(0, 180 * _DAY_US, n)
    noun = rng.integers(0, len(words.PRODUCT_NOUNS), n)
    name = concat(
        pick(_ADJECTIVES, rng.integers(0, len(words.PRODUCT_ADJECTIVES), n)),
        " ",
        pick(_MATERIALS, rng.integers(0, len(words.PRODUCT_MATERIALS), n)),
        " ",
        pick(_NOUNS, noun),
    )
    price = _prices(rng, n)
    in_stock = pa.array(chance(rng, 0.9, n))
    weight = pa.array(cents(0.05 + rng.random(n) * 20.0), mask=chance(rng, 0.1, n))
    return [
        pa.array(ids),
        concat("SKU-", digits(ids, 6)),
        name,
        pick(_CATEGORIES, noun),
        pa.array(price),
        in_stock,
        weight,
        timestamps(created),
        timestamps(updated),
    ]


PRODUCTS = Table("products", 2, SCHEMA, TIMELINE, _columns, max_rows=MAX_PRODUCTS)


@lru_cache(maxsize=8)
def product_prices(seed: int) -> np.ndarray:
    """Price of product id i at index i - 1, so purchases charge what the catalogue says."""
    prices: np.ndarray = PRODUCTS.block(seed, 0).column("price").to_numpy()[:MAX_PRODUCTS]
    return prices
